package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
)

// The CSRF token is a random value in a cookie that only this prefix sees,
// repeated in every form (double submit): a cross-site form cannot read the
// cookie, so it cannot repeat it. It needs no server state, so a page
// served by one instance of a fleet can post to another.
const (
	csrfCookie  = "beignet_admin_csrf"
	csrfMinLen  = 26 // rand.Text's 128 bits
	csrfField   = "csrf"
	flashCookie = "beignet_admin_flash"
)

// csrfToken returns the request's token, setting a new cookie when it has
// none.
func csrfToken(w http.ResponseWriter, r *http.Request, prefix string) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= csrfMinLen {
		return c.Value
	}
	token := rand.Text()
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: token, Path: prefix,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	return token
}

var errCSRF = errors.New("missing or wrong CSRF token: reload the page and try again")

func checkCSRF(r *http.Request) error {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < csrfMinLen {
		return errCSRF
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue(csrfField)), []byte(c.Value)) != 1 {
		return errCSRF
	}
	return nil
}

// setFlash leaves a message for the next page the browser loads.
func setFlash(w http.ResponseWriter, prefix, msg string) {
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: url.QueryEscape(msg), Path: prefix, MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// takeFlash reads the message and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request, prefix string) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: prefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return msg
}
