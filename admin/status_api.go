package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// Authorizer says who makes a staff request: the status events' actor
// ("staff:<id>") and whether the request may proceed. Today's is
// TokenAuthorizer; the console's staff sessions plug in here.
type Authorizer func(r *http.Request) (actor string, ok bool)

// TokenActor is the actor of changes made with the admin token.
var TokenActor = store.StaffActor("admin")

// TokenAuthorizer accepts the bearer token (admin.token) as the staff user
// "admin"; an empty token refuses every request.
func TokenAuthorizer(token string) Authorizer {
	return func(r *http.Request) (string, bool) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return "", false
		}
		return TokenActor, true
	}
}

// StatusEvents reads an application's status history.
type StatusEvents interface {
	StatusEvents(ctx context.Context, id store.Identity, planID string) ([]store.StatusEvent, error)
}

// StatusAPI is the staff JSON API for application statuses.
type StatusAPI struct {
	changer *StatusChanger
	apps    Applications
	events  StatusEvents
	plan    *dialogs.Plan
	auth    Authorizer
	log     *slog.Logger
}

// NewStatusAPI returns the API over the record; auth decides who may use it.
func NewStatusAPI(changer *StatusChanger, apps Applications, events StatusEvents, plan *dialogs.Plan, auth Authorizer, log *slog.Logger) *StatusAPI {
	return &StatusAPI{changer: changer, apps: apps, events: events, plan: plan, auth: auth, log: log}
}

// Routes mounts the API:
//
//	GET  /admin/api/candidates/{candidate}/status  the status and its history
//	POST /admin/api/candidates/{candidate}/status  set the status
//
// {candidate} is "channel:user_id", or "id_number:<ID number>" or
// "mobile:<mobile>" (found as the status import finds a row: by the blind
// index; a person on several channels is reached on the one they used
// last). A POST takes {"status", "reason", "reopen", "payment_url"} and an
// optional Idempotency-Key header.
func (a *StatusAPI) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/api/candidates/{candidate}/status", a.authorized(a.get))
	mux.HandleFunc("POST /admin/api/candidates/{candidate}/status", a.authorized(a.set))
}

func (a *StatusAPI) authorized(next func(w http.ResponseWriter, r *http.Request, actor string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, ok := a.auth(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="regbot admin"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{"unauthorized"})
			return
		}
		next(w, r, actor)
	}
}

// StatusRequest is the body of a status change.
type StatusRequest struct {
	// Status is a status key or its Chinese name (审核不通过 …).
	Status string `json:"status"`
	// Reason is required for rejected.
	Reason string `json:"reason,omitempty"`
	// Reopen are the material and answer keys (or names) to give again.
	Reopen []string `json:"reopen,omitempty"`
	// PaymentURL is the candidate's payment page (awaiting_payment).
	PaymentURL string `json:"payment_url,omitempty"`
}

// StatusResponse says where the application is after a request.
type StatusResponse struct {
	Outcome Outcome        `json:"outcome,omitempty"`
	From    store.Status   `json:"from,omitempty"`
	Status  store.Status   `json:"status"`
	Events  []StatusChange `json:"events,omitempty"`
}

// StatusChange is one status event as the API shows it.
type StatusChange struct {
	From   store.Status `json:"from,omitempty"`
	To     store.Status `json:"to"`
	Actor  string       `json:"actor"`
	Reason string       `json:"reason,omitempty"`
	At     time.Time    `json:"at"`
}

type errorBody struct {
	Error string `json:"error"`
}

// identity is the candidate the path names, or false once the answer is
// written.
func (a *StatusAPI) identity(w http.ResponseWriter, r *http.Request) (store.Identity, bool) {
	channel, user, ok := strings.Cut(r.PathValue("candidate"), ":")
	switch key := store.LookupKey(channel); {
	case !ok:
	case key == store.LookupIDNumber || key == store.LookupMobile:
		return a.lookup(w, r, key, user)
	case (store.Identity{Channel: channel, UserID: user}).Check() == nil:
		return store.Identity{Channel: channel, UserID: user}, true
	}
	writeJSON(w, http.StatusBadRequest, errorBody{"candidate must be channel:user_id, id_number:<ID number> or mobile:<mobile>"})
	return store.Identity{}, false
}

// lookup finds the candidate by ID number or mobile, normalised as the bot
// stores them: the application changed last when several match.
func (a *StatusAPI) lookup(w http.ResponseWriter, r *http.Request, key store.LookupKey, value string) (store.Identity, bool) {
	value, err := lookupValue(key, value, time.Now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
		return store.Identity{}, false
	}
	refs, err := a.apps.FindApplications(r.Context(), a.plan.ID, key, value)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeJSON(w, http.StatusNotFound, errorBody{"no application with this " + lookupName(key)})
		} else {
			a.storeError(w, err)
		}
		return store.Identity{}, false
	}
	return refs[0].Identity, true
}

func (a *StatusAPI) get(w http.ResponseWriter, r *http.Request, _ string) {
	id, ok := a.identity(w, r)
	if !ok {
		return
	}
	app, err := a.apps.Application(r.Context(), id, a.plan.ID)
	if err != nil {
		a.storeError(w, err)
		return
	}
	events, err := a.events.StatusEvents(r.Context(), id, a.plan.ID)
	if err != nil {
		a.storeError(w, err)
		return
	}
	resp := StatusResponse{Status: app.Status}
	for _, e := range events {
		resp.Events = append(resp.Events, StatusChange{From: e.From, To: e.To, Actor: e.Actor, Reason: e.Reason, At: e.At})
	}
	writeJSON(w, http.StatusOK, resp)
}

// maxStatusBody bounds a request body.
const maxStatusBody = 64 << 10

func (a *StatusAPI) set(w http.ResponseWriter, r *http.Request, actor string) {
	id, ok := a.identity(w, r)
	if !ok {
		return
	}
	var req StatusRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxStatusBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{"body: " + err.Error()})
		return
	}
	to, err := ParseStatus(req.Status)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
		return
	}
	reopen, err := reopenKeys(a.plan, strings.Join(req.Reopen, ","))
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{err.Error()})
		return
	}
	app, err := a.apps.Application(r.Context(), id, a.plan.ID)
	if err != nil {
		a.storeError(w, err)
		return
	}
	ch := Change{Identity: id, From: app.Status, Since: app.UpdatedAt, To: to, Actor: actor, Reason: strings.TrimSpace(req.Reason),
		Reopen: reopen, PaymentURL: strings.TrimSpace(req.PaymentURL)}
	if k := strings.TrimSpace(r.Header.Get("Idempotency-Key")); k != "" {
		ch.Key = "staff:" + k
	}
	outcome, err := a.changer.Apply(r.Context(), ch)
	var te *store.TransitionError
	switch {
	case outcome == Applied || outcome == Unchanged:
		status := to
		if outcome == Unchanged {
			status = app.Status
			if cur, err := a.apps.Application(r.Context(), id, a.plan.ID); err == nil {
				status = cur.Status
			}
		}
		writeJSON(w, http.StatusOK, StatusResponse{Outcome: outcome, From: app.Status, Status: status})
	case errors.As(err, &te):
		writeJSON(w, http.StatusConflict, errorBody{err.Error()})
	case outcome == Refused:
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{err.Error()})
	case errors.Is(err, store.ErrBadInput) || errors.Is(err, store.ErrRefused):
		// The same change would fail again.
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{"the change cannot be recorded as given"})
	default:
		a.log.Error("status change", "channel", id.Channel, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{"status change failed; try again"})
	}
}

func (a *StatusAPI) storeError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{"no application of this candidate"})
		return
	}
	if errors.Is(err, store.ErrBadInput) || errors.Is(err, store.ErrRefused) {
		// The same request would fail again.
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{"the change cannot be recorded as given"})
		return
	}
	a.log.Error("status api", "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody{"store unavailable; try again"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
