package admin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	secret []byte
	log    *slog.Logger
	now    func() time.Time
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
	return &Packages{cfg: cfg, engine: engine, record: record, blobs: blobs, secret: secret, log: log, now: time.Now}, nil
}

// Routes mounts the package endpoints.
func (p *Packages) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/api/candidates/{candidate}/materials.zip", p.staffPackage)
	mux.HandleFunc("GET /materials/{token}", p.candidatePackage)
}

// Link is dialogs.Options.PackageLink: the signed link to the session's
// package, or nil-with-error when links are off.
func (p *Packages) Link(_ context.Context, s *dialogs.Session) (*dialogs.Link, error) {
	if p.cfg.PublicURL == "" {
		return nil, errors.New("admin.public_url is not set")
	}
	exp := p.now().Add(p.cfg.LinkTTL).Unix()
	payload := base64.RawURLEncoding.EncodeToString([]byte(s.Channel + "\x00" + s.UserID + "\x00" + strconv.FormatInt(exp, 10)))
	token := payload + "." + p.sign(payload)
	return &dialogs.Link{Label: "材料包下载", URL: strings.TrimRight(p.cfg.PublicURL, "/") + "/materials/" + token}, nil
}

func (p *Packages) sign(payload string) string {
	mac := hmac.New(sha256.New, p.secret)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// parseToken returns the identity a link was made for, if it is genuine and
// not expired.
func (p *Packages) parseToken(token string) (store.Identity, bool) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || subtle.ConstantTimeCompare([]byte(sig), []byte(p.sign(payload))) != 1 {
		return store.Identity{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return store.Identity{}, false
	}
	parts := strings.Split(string(raw), "\x00")
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
	id, ok := p.parseToken(r.PathValue("token"))
	if !ok {
		http.Error(w, "链接无效或已过期，请在对话中重新回复“材料包”获取新链接。", http.StatusNotFound)
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
	if !ok || channel == "" || user == "" {
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

func (p *Packages) serve(w http.ResponseWriter, r *http.Request, data []byte, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "没有找到该考生的材料。", http.StatusNotFound)
		return
	case errors.Is(err, ErrBadCandidate):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		p.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := p.Write(r.Context(), &buf, data); err != nil {
		p.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="materials.zip"; filename*=UTF-8''`+url.PathEscape("报名材料包.zip"))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (p *Packages) fail(w http.ResponseWriter, err error) {
	p.log.Error("material package", "err", err)
	http.Error(w, "系统繁忙，请稍后再试。", http.StatusInternalServerError)
}
