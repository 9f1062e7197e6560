package admin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"regbot/dialogs"
	"regbot/materials"
	"regbot/store"
)

// Sessions finds a candidate's latest session snapshot.
type Sessions interface {
	LatestSession(ctx context.Context, id store.Identity) ([]byte, error)
}

// CandidateSessions finds it by the record's candidate id (PostgreSQL).
type CandidateSessions interface {
	CandidateSession(ctx context.Context, candidateID int64) ([]byte, error)
}

// Packages builds and serves material packages.
type Packages struct {
	cfg    Config
	engine *dialogs.Engine
	record Sessions
	blobs  materials.BlobReader
	// link seals and opens package link tokens.
	link cipher.AEAD
	log  *slog.Logger
	now  func() time.Time
	// limiter holds the per-address and per-link token buckets; nil means
	// no limit (Limit sets it).
	limiter     RateLimiter
	behindProxy bool
	// building bounds the packages written at once: each holds one
	// material's bytes (twice while it is decrypted).
	building chan struct{}
}

// maxBuilding is how many packages are written at once; further
// downloads wait for their turn.
const maxBuilding = 2

// Limit makes each download take a token from its client address's bucket
// and, for a candidate link, from the link's; over the limit the answer is
// 429 with Retry-After. behindProxy trusts the last X-Forwarded-For hop as
// the client address (as web.behind_proxy does).
func (p *Packages) Limit(l RateLimiter, behindProxy bool) {
	p.limiter, p.behindProxy = l, behindProxy
}

// NewPackages returns the package service.
func NewPackages(cfg Config, engine *dialogs.Engine, record Sessions, blobs materials.BlobReader, log *slog.Logger) (*Packages, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	secret := []byte(cfg.LinkSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("admin: link secret: %w", err)
		}
		if cfg.PublicURL != "" {
			log.Warn("admin.link_secret is empty: package links are signed with a random secret and stop working when regbot restarts")
		}
	}
	link, err := linkCipher(secret)
	if err != nil {
		return nil, fmt.Errorf("admin: link secret: %w", err)
	}
	return &Packages{cfg: cfg, engine: engine, record: record, blobs: blobs, link: link, log: log, now: time.Now,
		building: make(chan struct{}, maxBuilding)}, nil
}

// Routes mounts the package endpoints.
func (p *Packages) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/api/candidates/{candidate}/materials.zip", p.staffPackage)
	mux.HandleFunc("GET /materials/{token}", p.candidatePackage)
}

// Link is dialogs.Options.PackageLink: the link to the session's package,
// or nil-with-error when links are off. Its token is opaque: the identity
// and expiry sealed with AES-256-GCM under a key derived from
// admin.link_secret, so no encoding of it shows the OpenID, and a token
// changed in any bit is refused.
func (p *Packages) Link(_ context.Context, s *dialogs.Session) (*dialogs.Link, error) {
	if p.cfg.PublicURL == "" {
		return nil, errors.New("admin.public_url is not set")
	}
	exp := p.now().Add(p.cfg.LinkTTL).Unix()
	plain := []byte(s.Channel + "\x00" + s.UserID + "\x00" + strconv.FormatInt(exp, 10))
	nonce := make([]byte, p.link.NonceSize(), p.link.NonceSize()+len(plain)+p.link.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("package link: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(p.link.Seal(nonce, nonce, plain, []byte(linkAD)))
	return &dialogs.Link{Label: p.engine.Plan().Text("package_link_label"), URL: strings.TrimRight(p.cfg.PublicURL, "/") + "/materials/" + token}, nil
}

// linkAD binds a sealed link token to its use.
const linkAD = "regbot package link v2"

// linkCipher is the AEAD of package link tokens, under a key derived from
// the link secret.
func linkCipher(secret []byte) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("regbot package link encryption v2"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// parseToken returns the identity a link was made for, if it is genuine and
// not expired.
func (p *Packages) parseToken(token string) (store.Identity, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < p.link.NonceSize()+p.link.Overhead() {
		return store.Identity{}, false
	}
	n := p.link.NonceSize()
	plain, err := p.link.Open(nil, raw[:n], raw[n:], []byte(linkAD))
	if err != nil {
		return store.Identity{}, false
	}
	parts := strings.Split(string(plain), "\x00")
	if len(parts) != 3 {
		return store.Identity{}, false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || p.now().Unix() > exp {
		return store.Identity{}, false
	}
	return store.Identity{Channel: parts[0], UserID: parts[1]}, true
}

// candidatePackage serves a package to the holder of a signed link.
func (p *Packages) candidatePackage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	id, ok := p.parseToken(token)
	if !ok {
		http.Error(w, p.engine.Plan().Text("package_link_invalid"), http.StatusNotFound)
		return
	}
	sum := sha256.Sum256([]byte(token))
	if !p.allow(w, r, "pkg:link:"+base64.RawURLEncoding.EncodeToString(sum[:12]), p.cfg.LinkPerMinute) {
		return
	}
	data, err := p.record.LatestSession(r.Context(), id)
	p.serve(w, r, data, err)
}

// staffPackage serves any candidate's package to staff. {candidate} is the
// record's candidate id or "channel:user_id".
func (p *Packages) staffPackage(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="regbot admin"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !p.allow(w, r, "", 0) {
		return
	}
	data, err := p.Find(r.Context(), r.PathValue("candidate"))
	p.serve(w, r, data, err)
}

func (p *Packages) authorized(r *http.Request) bool {
	if p.cfg.Token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(p.cfg.Token)) == 1
}

// ErrBadCandidate is returned for a candidate reference that is neither a
// record id nor "channel:user_id".
var ErrBadCandidate = errors.New("candidate must be a record id or channel:user_id")

// Find returns the latest session snapshot of a candidate given as the
// record's candidate id (PostgreSQL only) or as "channel:user_id".
func (p *Packages) Find(ctx context.Context, candidate string) ([]byte, error) {
	if n, err := strconv.ParseInt(candidate, 10, 64); err == nil {
		cs, ok := p.record.(CandidateSessions)
		if !ok {
			return nil, fmt.Errorf("candidate %d: numeric ids need the PostgreSQL record: %w", n, ErrBadCandidate)
		}
		return cs.CandidateSession(ctx, n)
	}
	channel, user, ok := strings.Cut(candidate, ":")
	if !ok || (store.Identity{Channel: channel, UserID: user}).Check() != nil {
		return nil, ErrBadCandidate
	}
	return p.record.LatestSession(ctx, store.Identity{Channel: channel, UserID: user})
}

// Write writes the package of the session snapshot data to w.
func (p *Packages) Write(ctx context.Context, w io.Writer, data []byte) error {
	s, err := p.engine.Unmarshal(data)
	if err != nil {
		return err
	}
	return materials.WritePackage(ctx, w, p.engine, s, p.blobs, p.now())
}

// allow takes a token from key's bucket when key is set, then from the
// client address's; when one is empty it answers 429 and reports false. A
// failing limiter lets the download through (logged): the limit protects
// memory and bandwidth, it is not an access control.
func (p *Packages) allow(w http.ResponseWriter, r *http.Request, key string, perMinute int) bool {
	if p.limiter == nil {
		return true
	}
	// The link's bucket first: a link used up does not spend its holder's
	// address's tokens.
	var buckets [][2]any
	if key != "" {
		buckets = append(buckets, [2]any{key, perMinute})
	}
	buckets = append(buckets, [2]any{"pkg:ip:" + clientAddr(r, p.behindProxy), p.cfg.PackagesPerMinute})
	for _, b := range buckets {
		n := b[1].(int)
		ok, wait, err := p.limiter.Allow(r.Context(), b[0].(string), float64(n)/60, n)
		if err != nil {
			p.log.Warn("material package: rate limit unavailable", "err", err)
			return true
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			http.Error(w, p.engine.Plan().Text("package_rate_limited"), http.StatusTooManyRequests)
			return false
		}
	}
	return true
}

// clientAddr is the request's client address: the last X-Forwarded-For
// hop behind a proxy, else the peer; IPv6 addresses by their /64.
func clientAddr(r *http.Request, behindProxy bool) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if behindProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if hop := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); hop != nil {
				ip = hop
			}
		}
	}
	switch {
	case ip == nil:
		return host
	case ip.To4() == nil:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// serve streams the package of the session snapshot data: the zip is
// written straight to the response, one material at a time, so a download
// holds one file's bytes however large the package. An error after the
// first byte can no longer be a status: the connection is cut, so the
// client sees a failed download rather than a truncated zip.
func (p *Packages) serve(w http.ResponseWriter, r *http.Request, data []byte, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, p.engine.Plan().Text("package_not_found"), http.StatusNotFound)
		return
	case errors.Is(err, ErrBadCandidate):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		p.fail(w, err)
		return
	}
	s, err := p.engine.Unmarshal(data)
	if err != nil {
		p.fail(w, err)
		return
	}
	select {
	case p.building <- struct{}{}:
		defer func() { <-p.building }()
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="materials.zip"; filename*=UTF-8''`+
		url.PathEscape(p.engine.Plan().Text("package_zip_name")))
	w.Header().Set("Cache-Control", "no-store")
	if err := materials.WritePackage(r.Context(), w, p.engine, s, p.blobs, p.now()); err != nil {
		p.log.Error("material package: cut short", "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (p *Packages) fail(w http.ResponseWriter, err error) {
	p.log.Error("material package", "err", err)
	http.Error(w, p.engine.Plan().Text("busy"), http.StatusInternalServerError)
}
