package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"
)

// classicTokenURL is WeChat's classic access-token endpoint (the SDK keeps
// its copy unexported).
const classicTokenURL = "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=%s&secret=%s"

// Token timings.
const (
	// tokenEarly is how long before WeChat's expiry a token is dropped from
	// the cache, so no call races the expiry.
	tokenEarly = 5 * time.Minute
	// tokenLockTTL bounds how long a crashed fetcher holds the lock.
	tokenLockTTL = 15 * time.Second
	// tokenPoll is how often an instance waiting for another's fetch looks.
	tokenPoll = 50 * time.Millisecond
	// tokenWait bounds a token lookup made without a context (the SDK's
	// GetAccessToken).
	tokenWait = 20 * time.Second
)

// tokenSource is the access token shared by every instance. It implements
// the SDK's credential.AccessTokenContextHandle.
//
// The token lives in the shared kv (Redis in production) under one key. An
// instance that finds no token takes a Redis lock (SET NX with a TTL), looks
// again, fetches and stores the token, and releases the lock; the others
// wait for the token to appear. So exactly one instance fetches at a time,
// which matters for the classic endpoint, where every fetch invalidates the
// previous token. By default the token comes from the stable-token endpoint,
// which returns the same token to every caller while it is valid, so even a
// lost lock (Redis failover) cannot make two instances invalidate each
// other; the lock then only saves calls.
type tokenSource struct {
	appID, secret string
	classic       bool
	kv            kv
	key, lockKey  string
	stable        *credential.StableAccessToken
	metrics       *metrics
	log           *slog.Logger

	// rejected is the last token WeChat refused; a stable-token fetch that
	// returns it again is repeated with force_refresh.
	mu       sync.Mutex
	rejected string
	// local is the token as last read from the shared cache, reused for
	// localTTL so that each API call does not cost a Redis round trip.
	local      string
	localUntil time.Time
}

// localTTL is how long an instance reuses the shared token without reading
// it again: short, so a token another instance replaced is picked up soon
// (and a refused one is dropped at once by invalidate).
const localTTL = 30 * time.Second

var _ credential.AccessTokenContextHandle = (*tokenSource)(nil)

func newTokenSource(cfg Config, store kv, prefix string, m *metrics, log *slog.Logger) *tokenSource {
	t := &tokenSource{
		appID: cfg.AppID, secret: cfg.AppSecret, classic: cfg.ClassicToken,
		kv: store, key: tokenKey(prefix, cfg.AppID), lockKey: tokenLockKey(prefix, cfg.AppID),
		metrics: m, log: log,
	}
	if !t.classic {
		t.stable = credential.NewStableAccessToken(cfg.AppID, cfg.AppSecret, credential.CacheKeyOfficialAccountPrefix, store).(*credential.StableAccessToken)
	}
	return t
}

// GetAccessToken returns the shared token (the SDK calls it before every
// API call).
func (t *tokenSource) GetAccessToken() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenWait)
	defer cancel()
	return t.GetAccessTokenContext(ctx)
}

// GetAccessTokenContext returns the shared token, fetching it under the lock
// when there is none.
func (t *tokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.local != "" && time.Now().Before(t.localUntil) {
		tok := t.local
		t.mu.Unlock()
		return tok, nil
	}
	t.mu.Unlock()
	for {
		tok, err := t.kv.getString(ctx, t.key)
		if err != nil {
			return "", fmt.Errorf("read access token: %w", err)
		}
		if tok != "" {
			t.remember(tok)
			return tok, nil
		}
		tok, locked, err := t.fetchLocked(ctx)
		if err != nil || locked {
			if err == nil {
				t.remember(tok)
			}
			return tok, err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for access token: %w", ctx.Err())
		case <-time.After(tokenPoll):
		}
	}
}

// fetchLocked fetches and stores a token if it gets the lock; locked is
// false when another instance holds it.
func (t *tokenSource) fetchLocked(ctx context.Context) (tok string, locked bool, err error) {
	owner := randomHex(16)
	ok, err := t.kv.setNX(ctx, t.lockKey, owner, tokenLockTTL)
	if err != nil {
		return "", false, fmt.Errorf("lock access token fetch: %w", err)
	}
	if !ok {
		return "", false, nil
	}
	defer func() {
		// Released even when ctx is done, so the others need not wait for
		// the TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kvTimeout)
		defer cancel()
		if err := t.kv.deleteIf(rctx, t.lockKey, owner); err != nil {
			t.log.Warn("release access token lock", "channel", Channel, "err", err)
		}
	}()
	if tok, err := t.kv.getString(ctx, t.key); err != nil || tok != "" {
		return tok, true, err
	}
	tok, ttl, err := t.fetch(ctx)
	if err != nil {
		return "", true, err
	}
	if err := t.kv.SetContext(ctx, t.key, tok, ttl); err != nil {
		return "", true, fmt.Errorf("store access token: %w", err)
	}
	return tok, true, nil
}

// fetch gets a new token from WeChat and how long to cache it.
func (t *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	var res credential.ResAccessToken
	var err error
	if t.classic {
		res, err = credential.GetTokenFromServerContext(ctx, fmt.Sprintf(classicTokenURL, url.QueryEscape(t.appID), url.QueryEscape(t.secret)))
	} else {
		res, err = t.stable.GetAccessTokenDirectly(ctx, false)
		t.mu.Lock()
		stale := err == nil && res.AccessToken == t.rejected
		t.mu.Unlock()
		if stale {
			res, err = t.stable.GetAccessTokenDirectly(ctx, true)
		}
	}
	if err != nil {
		return "", 0, apiErrorOf("token", err)
	}
	if res.AccessToken == "" {
		return "", 0, &APIError{API: "token", Msg: "empty access_token"}
	}
	t.metrics.tokenFetches.Inc()
	ttl := time.Duration(res.ExpiresIn)*time.Second - tokenEarly
	if ttl < time.Minute {
		ttl = time.Minute
	}
	return res.AccessToken, ttl, nil
}

// invalidate drops tok from the cache after WeChat refused it, unless
// another instance has already replaced it.
func (t *tokenSource) invalidate(ctx context.Context, tok string) error {
	t.mu.Lock()
	t.rejected = tok
	if t.local == tok {
		t.local = ""
	}
	t.mu.Unlock()
	t.log.Warn("access token refused by WeChat; fetching a new one", "channel", Channel)
	return t.kv.deleteIf(ctx, t.key, tok)
}

// remember keeps tok for localTTL.
func (t *tokenSource) remember(tok string) {
	t.mu.Lock()
	t.local, t.localUntil = tok, time.Now().Add(localTTL)
	t.mu.Unlock()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
