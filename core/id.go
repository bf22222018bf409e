package sess

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// idBytes is the number of random bytes in an ID made by RandomID.
const idBytes = 32

const (
	minIDLen = 16
	maxIDLen = 128
)

// RandomID returns 256 bits from crypto/rand as 43 characters of unpadded
// base64url. It is the default Config.GenerateID. There is no fallback to a
// weaker source: if the system's random source fails, so does the request.
func RandomID() (string, error) {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sess: reading random ID: %w", err)
	}
	var out [43]byte
	base64.RawURLEncoding.Encode(out[:], b[:])
	return string(out[:]), nil
}

// UUIDv4 returns a random (version 4) UUID such as
// "9b2e4c1a-6f0d-4e3b-8a57-2c1d0e9f8b7a", for parity with authx_extra, which
// uses uuid4 IDs. A UUIDv4 carries 122 random bits, less than RandomID's 256;
// prefer RandomID unless IDs must be UUIDs. It reads crypto/rand through
// github.com/google/uuid and fails rather than falling back.
func UUIDv4() (string, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("sess: generating UUIDv4: %w", err)
	}
	return u.String(), nil
}

// validID reports whether id has the shape every session ID must have:
// 16 to 128 characters of the base64url alphabet. IDs from cookies are
// checked before any MAC work, and IDs from a generator before use, so no
// store ever sees anything else (no path separators, no control bytes).
func validID(id string) bool {
	if len(id) < minIDLen || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isB64URL(id[i]) {
			return false
		}
	}
	return true
}

func isB64URL(c byte) bool { return b64URLChars[c] }

var b64URLChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = true
	}
	return t
}()
