package sess

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"time"
)

// recordFormatForward marks the Meta of a forwarding record (see
// Config.RenewGrace): uvarint length, then the new ID sealed with the old
// one. It is not a session format: loading one as a session fails.
const recordFormatForward = 9

// forwardID returns the ID of the forwarding record of a renewed session's
// old ID. It is derived from the old ID, which only its client holds, so no
// one else can name or forge it.
func forwardID(old string) string {
	sum := sha256.Sum256([]byte("gosess/sess forward\x00" + old))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sealForward encrypts (XORs) id with a key stream derived from old: a
// store holds forwarding records under forwardID(old) and the sealed new ID,
// neither of which gives a usable session ID without old itself.
func sealForward(dst []byte, old, id string) []byte {
	var block [sha256.Size]byte
	for i := 0; i < len(id); i++ {
		if i%sha256.Size == 0 {
			h := hmac.New(sha256.New, []byte(old))
			h.Write([]byte("gosess/sess forward seal"))
			h.Write([]byte{byte(i / sha256.Size)})
			h.Sum(block[:0])
		}
		dst = append(dst, id[i]^block[i%sha256.Size])
	}
	return dst
}

// forwardMeta returns the Meta of the forwarding record from old to id.
func forwardMeta(old, id string) []byte {
	b := binary.AppendUvarint([]byte{recordFormatForward}, uint64(len(id)))
	return sealForward(b, old, id)
}

// forwardTarget parses a forwarding record's Meta and returns the new ID.
func forwardTarget(meta []byte, old string) (string, bool) {
	if len(meta) < 2 || meta[0] != recordFormatForward {
		return "", false
	}
	n, k := binary.Uvarint(meta[1:])
	if k <= 0 || n > maxIDLen || uint64(len(meta)-1-k) != n {
		return "", false
	}
	id := string(sealForward(nil, old, string(meta[1+k:])))
	return id, validID(id)
}

// follow returns the ID a renewed session's old ID forwards to, if a live
// forwarding record says so. A store failure is an error; anything else
// (no record, an unreadable one) reports false.
func (m *Manager) follow(ctx context.Context, old string, now time.Time) (string, bool, error) {
	rec, err := m.get(ctx, forwardID(old))
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, storeErr("get forward", err)
	}
	if !now.Before(rec.Expires) {
		return "", false, nil
	}
	id, ok := forwardTarget(rec.Meta, old)
	return id, ok, nil
}

// forward stores the forwarding record of a renewal from old to id, before
// the old record is retired, so that no request with the old ID finds
// neither. A failure is logged, not fatal: the renewal still happens, only
// without a grace window.
func (m *Manager) forward(ctx context.Context, old, id string) {
	sctx, cancel := m.storeCtx(ctx)
	t := m.storeStart()
	err := m.store.Create(sctx, forwardID(old), Record{Meta: forwardMeta(old, id), Expires: m.now().Add(m.cfg.RenewGrace)})
	cancel()
	m.storeDone(ctx, StoreOpCreate, t, err)
	if err != nil {
		m.logSession(ctx, slog.LevelWarn, "sess: storing the renewal's grace-window forward failed; the old ID ends at once", old, slog.Any("error", err))
	}
}
