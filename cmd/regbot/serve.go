package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"

	"regbot/admin"
	"regbot/bot"
	"regbot/bot/telegram"
	"regbot/bot/web"
	"regbot/bot/wechat"
	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/notify"
	"regbot/store"
	"regbot/store/blob"
	"regbot/store/memory"
	"regbot/store/postgres"
	"regbot/store/redis"
)

// runServe is `regbot serve --config FILE`: it loads the config, connects to
// PostgreSQL and Redis (or runs on the embedded store), applies the
// migrations, and serves HTTP until SIGTERM, then finishes the requests in
// flight. A start-up failure is one line naming the problem.
func runServe(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot serve --config FILE", errUsage)
	}
	cfg, err := loadConfig(*path, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	goredis.SetLogger(redisLog{log}) // process-wide: set here, once
	plan, err := loadPlan(cfg.Plan.Path)
	if err != nil {
		return oneLine(fmt.Errorf("plan: %w", err))
	}
	stores, err := openStores(ctx, cfg, plan, log)
	if err != nil {
		return oneLine(err)
	}
	defer stores.close()
	s, err := newServer(cfg, plan, stores, log)
	if err != nil {
		return oneLine(err)
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return oneLine(fmt.Errorf("http.listen: %w", err))
	}
	return s.run(ctx, ln, s.routes())
}

// newLogger returns the process's logger, on stderr.
func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // Validate checked it
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// redisLog takes go-redis's own log lines (dial retries, pool trouble) at
// debug level: the failures reach us as the errors of the commands that
// failed, and a start-up failure must stay one line on stderr.
type redisLog struct{ log *slog.Logger }

// Printf implements go-redis's logger.
func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

// stores are the backends the Router runs on, and what /readyz checks.
type stores struct {
	deps bot.Deps
	// rdb is the Redis client (nil on the embedded store), which the WeChat
	// adapter shares its access token through.
	rdb goredis.UniversalClient
	// history keeps web visitors' conversations for reloads in Redis, so
	// every instance shows them (nil: each instance keeps its own).
	history web.HistoryStore
	// sessions finds candidates' session snapshots in the record, for the
	// material package.
	sessions admin.Sessions
	// statuses finds applications and their status history, for status
	// changes by staff and imports.
	statuses statusRecord
	// console is the record as the staff console reads it.
	console admin.Store
	// unreachable marks an identity the platform refuses to deliver to.
	unreachable func(ctx context.Context, id store.Identity) error
	// outbox and queue are notify's record and durable queue (River on
	// PostgreSQL, in process on memory).
	outbox notify.Record
	queue  notify.Queue
	// broadcasts is the record of broadcasts, and pace their shared send
	// rate (Redis, or PostgreSQL without it; memory on the embedded store).
	broadcasts broadcastRecord
	pace       broadcasts.Limiter
	// limiter is the shared token bucket (Redis, or memory).
	limiter interface {
		Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error)
	}
	// pool is the record's connection pool (nil on the embedded store).
	pool   *pgxpool.Pool
	checks []readiness
	close  func()
}

// readiness is one dependency /readyz checks; one that degrades leaves
// regbot serving, degraded, while it is down.
type readiness struct {
	name     string
	check    func(ctx context.Context) error
	degrades bool
}

// webHistoryIdle is how long a web visitor's conversation is kept for
// reloads after their last message, when it is kept in Redis.
const webHistoryIdle = 7 * 24 * time.Hour

// connectTimeout bounds each connection check at start-up.
const connectTimeout = 10 * time.Second

// openStores connects the configured stores: PostgreSQL (migrated) as the
// record and Redis as the fast path, or the embedded memory store. plan
// names the answers the record seals.
func openStores(ctx context.Context, cfg *Config, plan *dialogs.Plan, log *slog.Logger) (*stores, error) {
	if cfg.Database.URL == "" {
		m := memory.New()
		log.Warn("NO DATABASE CONFIGURED: running on the embedded memory store; every answer, document and session is lost when regbot exits (set database.url for production)")
		return &stores{deps: bot.Deps{Fast: m, Record: m}, sessions: m, statuses: m, console: m,
			queue: notify.NewMemoryQueue(m), outbox: m, broadcasts: m, pace: m,
			unreachable: m.MarkUnreachable, limiter: m, close: func() {}}, nil
	}
	st := &stores{}
	var closers []func()
	st.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*stores, error) {
		st.close()
		return nil, err
	}

	pool, err := postgres.NewPool(ctx, cfg.Database.URL, cfg.Database.MaxConns)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, pool.Close)
	opts, keyFile, err := cfg.recordOptions(plan)
	if err != nil {
		return fail(err)
	}
	if keyFile != "" {
		log.Warn("privacy.record_key is not set: personal data in the record is sealed under the key in this file; keep it with your backups (the record cannot be read without it) and give every instance the same privacy.record_key",
			"file", keyFile)
	}
	rec := postgres.New(pool, opts...)
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	err = rec.Ping(pingCtx)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("database: cannot connect: %w", err))
	}
	from, to, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return fail(fmt.Errorf("database: %w", err))
	}
	if err := notify.MigrateRiver(ctx, pool); err != nil {
		return fail(fmt.Errorf("database: %w", err))
	}
	if err := rec.CheckKeys(ctx); err != nil {
		return fail(fmt.Errorf("database: %w", err))
	}
	if err := reseal(ctx, rec, false, log); err != nil {
		return fail(err)
	}
	st.deps.Record = rec
	st.outbox, st.queue = rec, notify.NewRiverQueue(pool, rec, log)
	st.sessions = rec
	st.statuses = rec
	st.console = rec
	st.unreachable = rec.MarkUnreachable
	st.broadcasts, st.pace = rec, rec
	st.checks = append(st.checks, readiness{name: "postgres", check: rec.Ping})
	st.pool = pool

	if cfg.Redis.URL == "" {
		m := memory.New()
		st.deps.Fast, st.limiter = m, m
		log.Warn("no redis configured: sessions, duplicate detection and per-user locks are in this process's memory, so only ONE instance of regbot may run (set redis.url to run several)")
	} else {
		rdb, err := redis.NewClient(cfg.Redis.URL)
		if err != nil {
			return fail(err)
		}
		closers = append(closers, func() { rdb.Close() })
		rs, err := redis.New(rdb, redis.WithPrefix(cfg.Redis.Prefix), redis.WithSessionTTL(cfg.Redis.SessionTTL),
			redis.WithInstance(cfg.Turns.Instance), redis.WithLockLease(cfg.Turns.Lease),
			redis.WithAutoPipeline(cfg.Redis.AutoPipelineOn()))
		if err != nil {
			return fail(err)
		}
		pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
		err = rs.Ping(pingCtx)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("redis: cannot connect: %w", err))
		}
		st.deps.Fast, st.limiter = rs, rs
		st.pace = fallbackLimiter{primary: rs, secondary: rec}
		st.rdb = rdb
		st.history = rs
		// Without Redis turns go on, on PostgreSQL alone: degraded, not down.
		st.checks = append(st.checks, readiness{name: "redis", check: rs.Ping, degrades: true})
	}
	if from != to {
		log.Info("database migrated", "from_version", from, "to_version", to)
	}
	return st, nil
}

// server is `regbot serve`'s HTTP side: the Router and what the routes need.
type server struct {
	cfg     *Config
	log     *slog.Logger
	router  *bot.Router
	stores  *stores
	metrics *metrics
	// webChat is the web chat channel; nil when web.disabled.
	webChat *web.Chat
	// telegram is the Telegram channel; nil without telegram.token.
	telegram *telegram.Adapter
	// wechat is the official account channel; nil without wechat.app_id.
	wechat *wechat.Adapter
	// packages serves material packages (staff API, candidates' links).
	packages *admin.Packages
	// statuses is the staff status API.
	statuses *admin.StatusAPI
	// broadcasts sends broadcasts from this process; broadcastService
	// writes and starts them (the console's pages).
	broadcasts       *broadcasts.Runner
	broadcastService *broadcasts.Service
	// console is the staff console at /admin/; nil when disabled or
	// without a database.
	console *admin.Console
	// queueUI is River's dashboard in the console (nil without it or on
	// the embedded store).
	queueUI *queueUI
	// notifier delivers the outbox: the turns' rows at once, the rest
	// through its queue.
	notifier *notify.Notifier
}

// newServer builds the engine on plan and the Router on stores.
func newServer(cfg *Config, plan *dialogs.Plan, st *stores, log *slog.Logger) (*server, error) {
	blobs, err := openBlobs(cfg, log)
	if err != nil {
		return nil, err
	}
	var packages *admin.Packages
	// Decoded uploads take at most 256 MB at once, whatever the channel:
	// a burst of large photos queues, small ones go side by side.
	slots := materials.WithDecodeBudget(materials.NewDecodeBudget(materials.DefaultDecodeBudget))
	opts := dialogs.Options{
		Inspector:  materials.NewInspector(plan.Texts, slots),
		Fixer:      materials.NewFixer(plan.Texts, slots),
		Blobs:      blobs,
		Log:        log,
		StaffHours: &cfg.Admin.Console.WorkingHours,
	}
	if cfg.Admin.PublicURL != "" {
		opts.PackageLink = func(ctx context.Context, s *dialogs.Session) (*dialogs.Link, error) {
			return packages.Link(ctx, s)
		}
	}
	engine, err := dialogs.NewEngine(plan, opts)
	if err != nil {
		return nil, err
	}
	if packages, err = admin.NewPackages(cfg.Admin, engine, st.sessions, blobs, log); err != nil {
		return nil, err
	}
	packages.Limit(st.limiter, cfg.Web.BehindProxy) // per address and per link, in Redis when there is one
	m := newMetrics()
	// notify delivers the outbox (the turns' rows at once, through the
	// Router's Dispatcher hook); the channels' senders join as they are
	// built below.
	senders := map[string]notify.Sender{}
	notifier, err := notify.New(cfg.Notify, notify.Deps{Record: st.outbox, Queue: st.queue, Blobs: blobs,
		Senders: senders, Registerer: m.reg}, log)
	if err != nil {
		return nil, err
	}
	st.deps.Dispatcher = notifier
	routerOpts := []bot.RouterOption{bot.WithObserver(m.observe),
		bot.WithUserRate(*cfg.Turns.UserRatePerMinute/60, cfg.Turns.UserBurst)}
	if cfg.WeChat.Enabled() {
		routerOpts = append(routerOpts, bot.WithSplit(wechat.Channel, wechat.SplitFor(cfg.WeChat)))
	}
	if cfg.Telegram.Enabled() {
		routerOpts = append(routerOpts, bot.WithSplit(telegram.Channel, telegram.SplitFor(cfg.Telegram)))
	}
	router := bot.NewRouter(engine, st.deps, log, routerOpts...)
	s := &server{cfg: cfg, log: log, router: router, stores: st, metrics: m, packages: packages, notifier: notifier,
		statuses: admin.NewStatusAPI(newStatusChanger(router), st.statuses, st.statuses, plan, admin.TokenAuthorizer(cfg.Admin.Token), log)}
	if err := s.newBroadcasts(plan, blobs); err != nil {
		return nil, err
	}
	switch embedded := cfg.Database.URL == ""; {
	case cfg.Admin.Console.Disabled:
	case embedded && cfg.Admin.Console.EmbeddedAdminPassword == "":
		log.Warn("the staff console (/admin/) is off: on the embedded store set admin.console.embedded_admin_password (REGBOT_CONSOLE_ADMIN_PASSWORD) to sign in as admin")
	default:
		if embedded {
			if err := addEmbeddedAdmin(st.console, cfg.Admin.Console.EmbeddedAdminPassword); err != nil {
				return nil, err
			}
		}
		if st.pool != nil {
			if s.queueUI, err = newQueueUI(st.pool, log); err != nil {
				return nil, err
			}
		}
		s.console, err = admin.NewConsole(cfg.Admin, admin.ConsoleDeps{
			Store: st.console, Engine: engine, Turns: router, Blobs: blobs, Packages: packages, Limiter: st.limiter,
			Statuses:     newStatusChanger(router),
			StatusImport: admin.NewStatusImport(newStatusChanger(router), st.statuses, plan),
			QueueUI:      queueUIHandler(s.queueUI),
			Broadcasts:   s.broadcastService,
			IsDuplicate:  func(err error) bool { return errors.Is(err, bot.ErrDuplicate) },
		}, log)
		if err != nil {
			return nil, err
		}
	}
	// WeChat (bot/wechat): the SDK's HTTP client is process-wide; set it
	// here, once, with a timeout.
	if cfg.WeChat.Enabled() {
		// Keep-alive sized to the concurrent sends (Go keeps two idle
		// connections per host by default).
		wechat.UseHTTPClient(&http.Client{Timeout: cfg.WeChat.APITimeout, Transport: bot.NewTransport(64)})
		wechat.UseAPIBase(cfg.WeChat.APIBase)
		s.wechat, err = wechat.New(cfg.WeChat, router, wechat.Deps{
			Redis:       st.rdb,
			KeyPrefix:   cfg.Redis.Prefix + "wechat:",
			Registerer:  m.reg,
			Texts:       plan.Texts,
			Unreachable: st.unreachable,
			Later:       queueReplies(notifier, wechat.Channel),
		}, log)
		if err != nil {
			return nil, err
		}
		senders[wechat.Channel] = s.paced(wechat.Channel, s.wechat)
	}
	// Web chat (bot/web): its per-IP limit shares the stores' token buckets.
	if !cfg.Web.Disabled {
		webOpts := []web.Option{web.WithRateLimiter(st.limiter), web.WithTexts(plan.Texts)}
		if st.history != nil {
			webOpts = append(webOpts, web.WithHistory(web.NewSharedHistory(st.history, cfg.Web.HistoryMessages, webHistoryIdle)))
		}
		if s.webChat, err = web.New(cfg.Web, router, log, webOpts...); err != nil {
			return nil, err
		}
		// The outbox's messages to web visitors (status notifications,
		// staff replies, broadcasts) go to their history.
		senders[web.Channel] = s.paced(web.Channel, s.webChat)
	}
	// Telegram (bot/telegram): the webhook is mounted in routes, polling
	// starts in run.
	if cfg.Telegram.Enabled() {
		s.telegram, err = telegram.New(cfg.Telegram, router, telegram.Deps{
			SizeMatters: telegram.SizeMattersIn(plan),
			Texts:       plan.Texts,
			Commands:    plan.Commands,
			Unreachable: st.unreachable,
			Registerer:  m.reg,
			Later:       queueReplies(notifier, telegram.Channel),
		}, log)
		if err != nil {
			return nil, err
		}
		senders[telegram.Channel] = s.paced(telegram.Channel, s.telegram)
	}
	return s, nil
}

// The account the embedded store's console starts with (`regbot user list`
// shows it as such).
const (
	embeddedAdminLogin = "admin"
)

// addEmbeddedAdmin creates the account embeddedAdminLogin on the embedded
// store, which forgets accounts at exit like everything else.
func addEmbeddedAdmin(accounts admin.Accounts, password string) error {
	u, err := admin.NewStaffUser(embeddedAdminLogin, admin.EmbeddedAdminName(), store.RoleAdmin, password)
	if err != nil {
		return fmt.Errorf("admin.console.embedded_admin_password: %w", err)
	}
	u.PasswordChangedAt = time.Now()
	if _, err := accounts.CreateStaffUser(context.Background(), u); err != nil {
		return fmt.Errorf("embedded console admin: %w", err)
	}
	return nil
}

// openBlobs opens the upload directory, encrypted unless the config says
// otherwise.
func openBlobs(cfg *Config, log *slog.Logger) (dialogs.BlobStore, error) {
	dir, err := blob.NewDir(cfg.Blob.Dir, cfg.blobKey())
	if err != nil {
		return nil, fmt.Errorf("blob.dir: %w", err)
	}
	if cfg.Blob.InsecureNoEncryption {
		log.Warn("blob.insecure_no_encryption is set: ID cards and photos are stored UNENCRYPTED", "dir", cfg.Blob.Dir)
		return plainBlobs{dir}, nil
	}
	return dir, nil
}

// plainBlobs stores every upload unencrypted (blob.insecure_no_encryption).
type plainBlobs struct{ *blob.Dir }

// Put stores data without encryption, whatever its sensitivity.
func (b plainBlobs) Put(ctx context.Context, data []byte, _ bool) (string, error) {
	return b.Dir.Put(ctx, data, false)
}

// routes is the HTTP route table, top to bottom; the middleware is at the
// end.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	// Channel adapters mount their handlers here, e.g.
	//	mux.Handle("POST /wechat", wechatAdapter)
	//	mux.Handle("POST /telegram", telegramAdapter)
	//	mux.Handle("/chat/", webChat)
	if s.webChat != nil {
		s.webChat.Routes(mux) // GET /chat, /chat/static/…, /chat/api/…
	}
	if s.telegram != nil && s.telegram.Config().Mode == telegram.ModeWebhook {
		mux.Handle("POST "+s.telegram.Config().WebhookPath, s.telegram)
	}
	if s.wechat != nil {
		s.wechat.Routes(mux) // GET and POST wechat.path
	}
	s.packages.Routes(mux) // GET /admin/api/candidates/{candidate}/materials.zip, GET /materials/{token}
	s.statuses.Routes(mux) // GET and POST /admin/api/candidates/{candidate}/status
	if s.console != nil {
		s.console.Routes(mux) // /admin/…: the staff console
	}
	return s.recoverPanics(s.accessLog(refuseBadInput(mux)))
}

// run serves h on ln until ctx ends, then stops taking requests and waits
// up to http.shutdown_timeout for the ones in flight.
func (s *server) run(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// The notifier stops last: turns finishing during the shutdown still
	// dispatch to it.
	if err := s.notifier.Start(ctx); err != nil {
		return err
	}
	defer s.notifier.Stop()
	// River's dashboard starts on its first request; its background work
	// ends with ctx.
	if s.queueUI != nil {
		s.queueUI.ctx = ctx
	}
	// Broadcasts hand their recipients to the notifier: they stop first.
	if s.broadcasts != nil {
		if err := s.broadcasts.Start(ctx); err != nil {
			return err
		}
		defer s.broadcasts.Stop()
	}
	// Telegram: registers the webhook or starts polling; Stop (after the
	// HTTP shutdown) waits for the turns under way.
	if s.telegram != nil {
		if err := s.telegram.Start(ctx); err != nil {
			return err
		}
		defer s.telegram.Stop()
	}
	// WeChat: its background sender; Stop (after the HTTP shutdown, so no
	// new turn starts) waits for the turns and sends under way.
	if s.wechat != nil {
		if err := s.wechat.Start(ctx); err != nil {
			return err
		}
		defer s.wechat.Stop()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("regbot serving", "addr", ln.Addr().String(), "plan", s.router.Engine().Plan().ID,
		"persistent", len(s.stores.checks) > 0)
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight", "timeout", s.cfg.HTTP.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: requests still running after %v: %w", s.cfg.HTTP.ShutdownTimeout, err)
	}
	s.log.Info("stopped")
	return nil
}

// healthz says the process is alive.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	names := make([]string, len(s.stores.checks))
	for i, c := range s.stores.checks {
		names[i] = c.name
	}
	fmt.Fprintf(w, "ok (%s)\n", strings.Join(names, ", "))
}

// readyz says whether PostgreSQL and Redis answer: 503 when a dependency
// turns cannot do without is down, 200 "degraded" when only Redis is (turns
// run on PostgreSQL alone). The reasons are logged, not sent.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var down, degraded []string
	for _, c := range s.stores.checks {
		if err := c.check(ctx); err != nil {
			s.log.Warn("not ready", "dependency", c.name, "err", err)
			if c.degrades {
				degraded = append(degraded, c.name)
			} else {
				down = append(down, c.name)
			}
		}
	}
	if len(down) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unavailable: %s\n", strings.Join(append(down, degraded...), ", "))
		return
	}
	if len(degraded) > 0 {
		fmt.Fprintf(w, "degraded: %s down, turns run on the database alone\n", strings.Join(degraded, ", "))
		return
	}
	if len(s.stores.checks) == 0 {
		io.WriteString(w, "ok (embedded memory store)\n")
		return
	}
	names := make([]string, len(s.stores.checks))
	for i, c := range s.stores.checks {
		names[i] = c.name
	}
	fmt.Fprintf(w, "ok (%s)\n", strings.Join(names, ", "))
}

// accessLog logs each request at debug level by its route pattern, never
// its URL (query strings carry platform ids and signatures). With debug off
// (the default) it costs nothing: no recorder, no clock, no attributes.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Debug("http", "method", r.Method, "route", r.Pattern, "status", rec.status, "duration", time.Since(start))
	})
}

// recoverPanics turns a handler's panic into a 500 and a logged error.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "route", r.Pattern, "panic", fmt.Sprint(v))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// metrics are the Prometheus metrics of the Router, on a registry of their
// own (no global state).
type metrics struct {
	reg        *prometheus.Registry
	turns      *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	duplicates *prometheus.CounterVec
	errors     *prometheus.CounterVec
	recovered  *prometheus.CounterVec
	limited    *prometheus.CounterVec
	degraded   *prometheus.CounterVec
	stale      *prometheus.CounterVec
}

// knownChannels get their series at start, so dashboards show zeros rather
// than nothing.
var knownChannels = []string{"wechat", "telegram", "web"}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_turns_total", Help: "Candidate messages handled (duplicates excluded), by channel.",
		}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "regbot_turn_duration_seconds", Help: "Time to handle one candidate message: lock, engine, record, session.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"channel"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_duplicates_dropped_total", Help: "Platform retries of an already handled message, dropped.",
		}, []string{"channel"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_turn_errors_total", Help: "Candidate messages that failed (store or engine error).",
		}, []string{"channel"}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regbot_sessions_recovered_total", Help: "Sessions rebuilt from the PostgreSQL record because Redis had lost them.",
		}, []string{"channel"}),
	}
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "regbot_messages_limited_total", Help: "Candidate messages over the per-user rate limit: recorded, not run.",
	}, []string{"channel"})
	m.degraded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "regbot_turns_degraded_total", Help: "Turns run on PostgreSQL alone because Redis was down.",
	}, []string{"channel"})
	m.stale = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "regbot_turns_rerun_total", Help: "Turns run again because the cached session was older than the record.",
	}, []string{"channel"})
	m.reg.MustRegister(m.turns, m.latency, m.duplicates, m.errors, m.recovered, m.limited, m.degraded, m.stale,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, ch := range knownChannels {
		m.turns.WithLabelValues(ch)
		m.latency.WithLabelValues(ch)
		m.duplicates.WithLabelValues(ch)
		m.errors.WithLabelValues(ch)
		m.recovered.WithLabelValues(ch)
		m.limited.WithLabelValues(ch)
		m.degraded.WithLabelValues(ch)
		m.stale.WithLabelValues(ch)
	}
	return m
}

// observe records one Router observation.
func (m *metrics) observe(o bot.Observation) {
	switch {
	case o.Duplicate:
		m.duplicates.WithLabelValues(o.Channel).Inc()
		return
	case o.Err != nil:
		m.errors.WithLabelValues(o.Channel).Inc()
	}
	m.turns.WithLabelValues(o.Channel).Inc()
	m.latency.WithLabelValues(o.Channel).Observe(o.Duration.Seconds())
	if o.Recovered {
		m.recovered.WithLabelValues(o.Channel).Inc()
	}
	if o.Limited {
		m.limited.WithLabelValues(o.Channel).Inc()
	}
	if o.Degraded {
		m.degraded.WithLabelValues(o.Channel).Inc()
	}
	if o.Stale > 0 {
		m.stale.WithLabelValues(o.Channel).Add(float64(o.Stale))
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// oneLine keeps a start-up error on one line: drivers put each connection
// attempt's error on a line of its own, often the same one twice (with and
// without TLS).
func oneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") {
		return err
	}
	var parts []string
	seen := map[string]bool{}
	for _, l := range strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }) {
		l = strings.TrimSpace(l)
		if l != "" && !seen[l] {
			seen[l] = true
			parts = append(parts, l)
		}
	}
	return &flatError{err: err, msg: strings.Join(parts, " ")}
}

type flatError struct {
	err error
	msg string
}

func (e *flatError) Error() string { return e.msg }
func (e *flatError) Unwrap() error { return e.err }

// queueReplies is an adapter's Later on channel: messages its webhook could
// not answer with go to the outbox as replies, not before notBefore.
func queueReplies(n *notify.Notifier, channel string) func(ctx context.Context, userID string, msgs []dialogs.Outbound, notBefore time.Time) error {
	return func(ctx context.Context, userID string, msgs []dialogs.Outbound, notBefore time.Time) error {
		return n.QueueMessages(ctx, store.Identity{Channel: channel, UserID: userID}, store.OutReply, msgs, notBefore)
	}
}
