package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"time"
)

// The cookies the chat sets. The identity cookie is HttpOnly; the CSRF
// cookie is readable by the page's script, which echoes it in the
// X-CSRF-Token header of every POST.
const (
	identityCookie = "regbot_chat_id"
	csrfCookie     = "regbot_chat_csrf"
	csrfHeader     = "X-CSRF-Token"
	cookieMaxAge   = 180 * 24 * time.Hour
	// idBytes is the size of a visitor id before encoding (128 bits).
	idBytes = 16
)

// b64 encodes ids and signatures. Strict: one byte string has one encoding,
// so a cookie value cannot be varied without breaking its signature.
var b64 = base64.RawURLEncoding.Strict()

// visitor is who sent a request: the id from the signed cookie.
type visitor struct {
	id string
	// fresh is set when the request had no valid identity cookie and a new
	// identity was issued.
	fresh bool
}

// logKey is the visitor as an opaque hash, for logs.
func (v visitor) logKey() string {
	sum := sha256.Sum256([]byte("web:" + v.id))
	return hex.EncodeToString(sum[:6])
}

// mac is HMAC-SHA256 of value under the chat's secret, separated by purpose
// so an identity signature is never a valid CSRF token and the reverse.
func (c *Chat) mac(purpose, value string) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// identityValue is the identity cookie's value: id "." signature.
func (c *Chat) identityValue(id string) string {
	return id + "." + b64.EncodeToString(c.mac("identity", id))
}

// parseIdentity returns the id in a cookie value whose signature checks.
func (c *Chat) parseIdentity(value string) (string, bool) {
	id, sig, ok := strings.Cut(value, ".")
	if !ok || !validID(id) {
		return "", false
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return "", false
	}
	return id, hmac.Equal(got, c.mac("identity", id))
}

// validID reports whether id looks like one newID made.
func validID(id string) bool {
	b, err := b64.DecodeString(id)
	return err == nil && len(b) == idBytes
}

func newID() string {
	b := make([]byte, idBytes)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// csrfToken is the CSRF token bound to an identity.
func (c *Chat) csrfToken(id string) string {
	return b64.EncodeToString(c.mac("csrf", id))
}

// visitor returns the request's visitor. Without a valid identity cookie
// (none, expired, tampered) it issues a new identity and sets its cookies.
func (c *Chat) visitor(w http.ResponseWriter, r *http.Request) visitor {
	if ck, err := r.Cookie(identityCookie); err == nil {
		if id, ok := c.parseIdentity(ck.Value); ok {
			return visitor{id: id}
		}
	}
	v := visitor{id: newID(), fresh: true}
	c.setCookies(w, r, v.id)
	return v
}

// setCookies (re)sets both cookies for id, renewing their lifetime.
func (c *Chat) setCookies(w http.ResponseWriter, r *http.Request, id string) {
	secure := c.isTLS(r)
	http.SetCookie(w, &http.Cookie{
		Name: identityCookie, Value: c.identityValue(id), Path: c.cfg.Path,
		MaxAge: int(cookieMaxAge.Seconds()), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: c.csrfToken(id), Path: c.cfg.Path,
		MaxAge: int(cookieMaxAge.Seconds()), Secure: secure, SameSite: http.SameSiteStrictMode,
	})
}

// checkCSRF is the signed double-submit check: the header must equal the
// CSRF cookie, and both must be the token of the request's identity. A
// cross-site page can neither read the cookie nor forge a token for the
// victim's identity, which it does not know.
func (c *Chat) checkCSRF(r *http.Request, v visitor) bool {
	header := r.Header.Get(csrfHeader)
	ck, err := r.Cookie(csrfCookie)
	if v.fresh || header == "" || err != nil {
		return false
	}
	want := c.csrfToken(v.id)
	return subtle.ConstantTimeCompare([]byte(header), []byte(ck.Value)) == 1 &&
		subtle.ConstantTimeCompare([]byte(header), []byte(want)) == 1
}

// isTLS reports whether the client reached us over TLS.
func (c *Chat) isTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return c.cfg.BehindProxy && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// clientKey is the rate-limit key of a request: the client IP, or its /64
// network for IPv6 (one host usually holds a whole /64).
func (c *Chat) clientKey(r *http.Request) string {
	ip := remoteIP(r.RemoteAddr)
	if c.cfg.BehindProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if p := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); p != nil {
				ip = p
			}
		}
	}
	if ip == nil {
		return r.RemoteAddr
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

func remoteIP(addr string) net.IP {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return net.ParseIP(host)
}
