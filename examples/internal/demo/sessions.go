package demo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sess "github.com/gosess/sess/core"
)

// The routes below are the same in every example; each framework's handler
// only reads the request, calls one of these functions and writes the
// status and body it returns as JSON.

// UserKey is the session key holding the logged-in user's name, which the
// page and GET /whoami show.
const UserKey = "user"

// UserAgentKey is the session key under which POST /login stores the
// browser's User-Agent, for the list of the user's sessions.
const UserAgentKey = "user_agent"

// MaxUserAgentLen is the longest User-Agent, in bytes, that POST /login
// stores; a longer one is cut.
const MaxUserAgentLen = 200

// ErrorBody is the JSON body of every error answer: {"error": "..."}.
type ErrorBody struct {
	// Error says what went wrong, in words fit for the client.
	Error string `json:"error"`
}

// Login is POST /login?user=U&remember=R: it checks the user name (see
// ValidUser) and remember ("1" for "remember me", "" or "0" for not),
// then gives the session a new ID (Renew, against session fixation), binds
// it to the user (SetPrincipal), stores the user name and userAgent (cut to
// MaxUserAgentLen bytes), and makes its cookie persistent (Max-Age) only if
// remember is "1", a browser-session cookie otherwise. It returns the
// status and the JSON body: {"user": U}, or an ErrorBody.
//
// A store without a principal index (sess.ErrNoPrincipalIndex) does not
// stop the login: the user is logged in, but GET /sessions answers 501.
func Login(s *sess.Session, user, remember, userAgent string) (int, any) {
	if err := ValidUser(user); err != nil {
		return http.StatusBadRequest, ErrorBody{err.Error()}
	}
	var persistent bool
	switch remember {
	case "", "0":
	case "1":
		persistent = true
	default:
		return http.StatusBadRequest, ErrorBody{`remember is "1" or "0"`}
	}
	// Some frameworks (fiber) reuse the request's buffers: copy what the
	// session keeps.
	user = strings.Clone(user)
	s.Renew()
	if err := s.SetPrincipal(user); err != nil && !errors.Is(err, sess.ErrNoPrincipalIndex) {
		return errorReply(err)
	}
	s.Set(UserKey, user)
	s.Set(UserAgentKey, cleanUserAgent(userAgent))
	if err := s.SetLifetime(sess.Lifetime{Persistent: persistent}); err != nil {
		return errorReply(err)
	}
	return http.StatusOK, map[string]string{"user": user}
}

// cleanUserAgent returns ua cut to MaxUserAgentLen bytes, without a
// broken last character or control characters, as a fresh string.
func cleanUserAgent(ua string) string {
	if len(ua) > MaxUserAgentLen {
		ua = ua[:MaxUserAgentLen]
	}
	var b strings.Builder
	for _, r := range ua {
		if r != utf8.RuneError && unicode.IsPrint(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SessionsReply is the JSON body of GET /sessions.
type SessionsReply struct {
	// User is the logged-in user.
	User string `json:"user"`
	// This describes the session of the request.
	This ThisSession `json:"this"`
	// Sessions are the user's live sessions, the most recently used first;
	// the request's own is among them, marked Current.
	Sessions []SessionItem `json:"sessions"`
}

// ThisSession is the request's own session in a SessionsReply.
type ThisSession struct {
	// Handle is the session's handle (see sess.Session.Handle).
	Handle string `json:"handle"`
	// Persistent reports whether its cookie is persistent ("remember me").
	Persistent bool `json:"persistent"`
	// Idle is when the session ends unless another request uses it.
	Idle time.Time `json:"idle"`
	// Absolute is when the session ends however active it is.
	Absolute time.Time `json:"absolute"`
	// Cookie is when the cookie expires in the browser; absent for a
	// browser-session cookie, which the browser drops when it closes.
	Cookie time.Time `json:"cookie,omitzero"`
}

// SessionItem is one of the user's sessions in a SessionsReply.
type SessionItem struct {
	// Handle names the session for POST /sessions/revoke.
	Handle string `json:"handle"`
	// Current marks the session of the request ("this device").
	Current bool `json:"current"`
	// UserAgent is the browser's User-Agent at login.
	UserAgent string `json:"user_agent"`
	// SignedIn is when the user logged in.
	SignedIn time.Time `json:"signed_in"`
	// LastSeen is about when a request last used the session.
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Idle is when the session ends unless a request uses it.
	Idle time.Time `json:"idle"`
	// Absolute is when the session ends however active it is.
	Absolute time.Time `json:"absolute"`
	// Persistent reports whether its cookie is persistent ("remember me").
	Persistent bool `json:"persistent"`
}

// ListSessions is GET /sessions: the logged-in user's sessions from
// m.Sessions, and the request's own deadlines and persistence, as a
// SessionsReply. It answers 401 when the session is not logged in, and 501
// when m's store keeps no principal index. It changes nothing, so a
// visitor without a session does not get one.
func ListSessions(ctx context.Context, m *sess.Manager, s *sess.Session) (int, any) {
	user, status, body := principal(s)
	if user == "" {
		return status, body
	}
	infos, err := m.Sessions(ctx, user)
	if err != nil {
		return errorReply(err)
	}
	own := s.Handle()
	d := s.Deadlines()
	reply := SessionsReply{
		User: user,
		This: ThisSession{
			Handle:     own,
			Persistent: s.Lifetime().Persistent,
			Idle:       d.Idle.UTC(),
			Absolute:   d.Absolute.UTC(),
			Cookie:     d.Cookie.UTC(),
		},
		Sessions: make([]SessionItem, 0, len(infos)),
	}
	for _, info := range infos {
		ua, _ := info.Get(UserAgentKey)
		uas, _ := ua.(string)
		reply.Sessions = append(reply.Sessions, SessionItem{
			Handle:     info.Handle,
			Current:    info.Handle == own,
			UserAgent:  uas,
			SignedIn:   info.SignedIn.UTC(),
			LastSeen:   info.LastSeen.UTC(),
			Idle:       info.Idle.UTC(),
			Absolute:   info.Absolute.UTC(),
			Persistent: info.Persistent,
		})
	}
	return http.StatusOK, reply
}

// RevokeSession is POST /sessions/revoke?handle=H ("log out" on one of the
// listed sessions): it ends the logged-in user's session with handle H
// with m.Revoke, at once, and answers {"revoked": 1}. Only the user's own
// sessions can be ended: a handle of no session of theirs (another user's,
// an ended one) is answered 404, a malformed one 400, and a request that
// is not logged in 401. For the request's own handle it logs out, as POST
// /logout does.
func RevokeSession(ctx context.Context, m *sess.Manager, s *sess.Session, handle string) (int, any) {
	user, status, body := principal(s)
	if user == "" {
		return status, body
	}
	if handle != "" && handle == s.Handle() {
		s.Destroy()
		return http.StatusOK, map[string]int{"revoked": 1}
	}
	switch err := m.Revoke(ctx, user, handle); {
	case errors.Is(err, sess.ErrInvalidHandle):
		return http.StatusBadRequest, ErrorBody{"handle is malformed: a session handle is 64 lowercase hexadecimal digits"}
	case errors.Is(err, sess.ErrNotFound):
		return http.StatusNotFound, ErrorBody{"no session of yours has this handle"}
	case err != nil:
		return errorReply(err)
	}
	return http.StatusOK, map[string]int{"revoked": 1}
}

// RevokeOthers is POST /sessions/revoke-others ("log out everywhere
// else"): it ends every other session of the logged-in user with
// s.RevokeOthers, keeps this one, and answers {"revoked": N}. A request
// that is not logged in is answered 401.
func RevokeOthers(ctx context.Context, s *sess.Session) (int, any) {
	user, status, body := principal(s)
	if user == "" {
		return status, body
	}
	n, err := s.RevokeOthers(ctx)
	if err != nil {
		return errorReply(err)
	}
	return http.StatusOK, map[string]int{"revoked": n}
}

// principal returns the principal the session is bound to, or "" and the
// answer to give: 401 if nobody is logged in, 501 if someone is but the
// store could not bind the session (it keeps no principal index).
func principal(s *sess.Session) (string, int, any) {
	if p := s.Principal(); p != "" {
		return p, 0, nil
	}
	if _, ok := sess.Get[string](s, UserKey); ok {
		return "", http.StatusNotImplemented, ErrorBody{noIndexMessage}
	}
	return "", http.StatusUnauthorized, ErrorBody{"not logged in"}
}

// errorReply maps a sess error to a status and an ErrorBody.
func errorReply(err error) (int, any) {
	switch {
	case errors.Is(err, sess.ErrNoPrincipalIndex):
		return http.StatusNotImplemented, ErrorBody{noIndexMessage}
	case errors.Is(err, sess.ErrStoreUnavailable):
		return http.StatusServiceUnavailable, ErrorBody{"the session store is unavailable; try again"}
	}
	return http.StatusInternalServerError, ErrorBody{"internal error: " + err.Error()}
}

const noIndexMessage = "this demo's session store keeps no principal index, so it cannot list or end a user's sessions"
