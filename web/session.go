package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
)

// maxForm bounds a form's body.
const maxForm = 32 << 10

// sessionDays is how long the session cookie lasts.
const sessionDays = 7

// csrfToken is the CSRF token of a form posted to action in the session of
// token: an HMAC of the token's SHA-256 and the action under the page's
// per-process key. A cross-site page can neither read the session cookie
// nor compute it.
func (h *Handler) csrfToken(token, action string) string {
	sum := sha256.Sum256([]byte(token))
	m := hmac.New(sha256.New, h.secret)
	m.Write(sum[:])
	m.Write([]byte{0})
	m.Write([]byte(action))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether the posted form carries the CSRF token of its
// action in this session.
func (h *Handler) checkCSRF(r *http.Request, token string) bool {
	got := r.PostFormValue("csrf")
	want := h.csrfToken(token, r.URL.Path)
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// loginPage shows the sign-in form. Its CSRF token is a random value kept
// in a cookie and repeated in the form (double submit): there is no
// session yet to bind it to.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.renderLogin(w, r, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, errKey string) {
	secureHeaders(w)
	lang := h.lang(w, r)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := hex.EncodeToString(b)
	setCookie(w, r, loginCookie, nonce, true, 3600)
	p := h.newPage(r, lang, "login", "login.title")
	p.LoginCSRF = nonce
	if errKey != "" {
		p.Flash = &flash{Kind: "error", Text: p.T(errKey)}
	}
	h.render(w, status, p)
}

// login checks the token and starts the session. The token is never
// written back into a page, and neither the token nor why it failed is
// logged.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.renderLogin(w, r, http.StatusBadRequest, "err.form")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("csrf"))) {
		h.renderLogin(w, r, http.StatusForbidden, "err.csrf")
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	cust, ok := Customer{}, false
	if token != "" && h.auth != nil {
		cust, ok = h.auth(token)
	}
	if !ok {
		h.log.Info("web: sign-in refused", "remote", r.RemoteAddr)
		h.renderLogin(w, r, http.StatusUnauthorized, "err.bad_token")
		return
	}
	h.log.Info("web: signed in", "customer", cust.ID.String())
	clearCookie(w, r, loginCookie)
	setCookie(w, r, sessionCookie, token, true, sessionDays*24*3600)
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

// logout ends the session (a form with the session's CSRF token, so that
// another site cannot sign the customer out).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := r.ParseForm(); err != nil || !h.checkCSRF(r, c.Value) {
			h.errorPage(w, r, http.StatusForbidden, "err.csrf")
			return
		}
	}
	clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/app/login", http.StatusSeeOther)
}
