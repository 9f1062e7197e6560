package admin

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"regbot/dialogs"
	"regbot/store"
)

// The console's words and sentences that Go chooses (error and notice
// sentences, the names of statuses, channels, audit actions …) are in
// templates/messages.yaml, by stable key; the page text is in the
// templates. Go holds the keys only.

//go:embed templates/messages.yaml
var catalogFile []byte

// catalog is templates/messages.yaml.
type catalog struct {
	// Messages are sentences by key, with {name} placeholders.
	Messages map[string]string `yaml:"messages"`
	// Labels are names of values by table (labelTables) and value.
	Labels map[string]map[string]string `yaml:"labels"`
	// Import is the status import's vocabulary.
	Import struct {
		// Statuses are the names of statuses in the official export.
		Statuses map[store.Status][]string `yaml:"statuses"`
		// Columns are the header names of each column (importColumns).
		Columns map[string][]string `yaml:"columns"`
	} `yaml:"import"`
}

// messageKeys are the messages Go uses, each with the placeholders its
// text may use.
var messageKeys = map[string][]string{
	"error.admin_only": nil,

	"account.embedded_admin_name": nil,
	"error.bad_form":              nil,
	"error.stale_form":            nil,
	"error.stale_page":            nil,
	"error.busy":                  nil,
	"error.not_found":             nil,
	"error.unknown_action":        nil,

	"signin.expired":    nil,
	"signin.signed_out": nil,
	"signin.throttled":  nil,
	"signin.wrong":      nil,
	"signin.locked":     nil,
	"signin.now_locked": nil,
	"signin.disabled":   nil,

	"users.login_taken":      nil,
	"users.password_short":   {"min"},
	"users.invalid":          nil,
	"users.not_self":         nil,
	"users.invalid_update":   nil,
	"account.wrong_password": nil,
	"account.password_short": {"min"},
	"account.mismatch":       nil,

	"ticket.image_link":           nil,
	"ticket.claimed_by_other":     nil,
	"ticket.claim_first":          nil,
	"ticket.closed":               nil,
	"ticket.closed_by_candidate":  nil,
	"ticket.empty_reply":          nil,
	"ticket.reply_too_long":       {"max"},
	"ticket.reason.requested":     nil,
	"ticket.reason.question":      nil,
	"ticket.reason.failures":      {"question"},
	"ticket.reason.special_case":  {"case"},
	"ticket.reason.review":        {"question"},
	"candidate.undecided":         nil,
	"candidate.condition":         {"key"},
	"candidate.yes":               nil,
	"candidate.no":                nil,
	"candidate.csv_file":          nil,
	"conversation.bot":            nil,
	"conversation.image":          nil,
	"conversation.unreadable":     nil,
	"status.choose":               nil,
	"status.reason_too_long":      {"max"},
	"status.not_allowed":          {"from", "to"},
	"status.reason_required":      nil,
	"document.link":               nil,
	"document.superseded":         nil,
	"document.choose":             nil,
	"document.reason_required":    {"max"},
	"document.no_channel":         nil,
	"document.package_incomplete": nil,

	"broadcast.not_found":         nil,
	"broadcast.no_match_preview":  nil,
	"broadcast.no_match_send":     nil,
	"broadcast.image_unreadable":  nil,
	"broadcast.bad_time":          nil,
	"broadcast.past_time":         nil,
	"broadcast.state_changed":     nil,
	"broadcast.segment_not_saved": {"problem"},

	"import.no_file":     nil,
	"import.bad_file":    {"problem"},
	"import.interrupted": {"problem"},

	"duration.under_minute": nil,
	"duration.minutes":      {"minutes"},
	"duration.hours":        {"hours", "minutes"},
	"duration.days":         {"days", "hours"},
}

// The label tables and the values each names: every value has a label and
// the table names nothing else.
var (
	channelKeys          = []string{"wechat", "telegram", "web", "console"}
	broadcastFailureKeys = []string{"unreachable", "window_closed", "permanent", "gave_up", "failed"}
	csvColumnKeys        = []string{"id", "name", "id_number", "mobile", "channels", "condition", "status", "waiting", "created", "updated"}
	auditActionKeys      = []string{
		"broadcast.create", "broadcast.send", "broadcast.pause", "broadcast.resume", "broadcast.cancel", "broadcast.report",
		"segment.save", "segment.delete",
		"signin", "signin.failed", "signin.locked", "signin.throttled", "signout", "denied", "csrf.refused",
		"password.change", "user.add", "user.password", "user.disable", "user.enable", "user.unlock", "user.update",
		"ticket.claim", "ticket.reply", "ticket.close",
		"candidate.view", "candidate.export",
		"document.view", "document.denied", "document.accept", "document.reject", "package.download",
		"status.set",
	}
	flashKeys = []string{
		"claimed", "replied", "closed", "accepted", "rejected", "user", "password", "duplicate", "status",
		"broadcast_saved", "broadcast_sending", "broadcast_scheduled", "broadcast_paused", "broadcast_resumed",
		"broadcast_cancelled", "segment", "segment_deleted",
	}
	labelTables = map[string][]string{
		"status":            stringsOf(store.Statuses()),
		"channel":           channelKeys,
		"delivery":          stringsOf([]store.DeliveryState{store.DeliveryPending, store.DeliverySent, store.DeliveryFailed, store.DeliverySkipped, store.DeliveryCancelled}),
		"out_kind":          stringsOf([]store.OutKind{store.OutReply, store.OutNotification, store.OutStaff, store.OutReminder, store.OutBroadcast}),
		"broadcast_state":   stringsOf([]store.BroadcastState{store.BroadcastDraft, store.BroadcastScheduled, store.BroadcastSending, store.BroadcastPaused, store.BroadcastDone, store.BroadcastCancelled}),
		"ticket_state":      {store.TicketOpen, store.TicketAnswered, store.TicketClosed},
		"broadcast_failure": broadcastFailureKeys,
		"audit_action":      auditActionKeys,
		"flash":             flashKeys,
		"candidate_csv":     csvColumnKeys,
	}
	// importColumns are the status import's columns.
	importColumns = []string{"id_number", "mobile", "status", "reason", "reopen", "payment_url"}
)

func stringsOf[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// texts is the catalog, loaded and checked when the program starts: an
// embedded catalog that does not match the keys above is a defect of the
// build, and no page may show a blank where a sentence belongs.
var texts = mustLoadCatalog(catalogFile)

func mustLoadCatalog(data []byte) *catalog {
	c, err := loadCatalog(data)
	if err != nil {
		panic(fmt.Sprintf("admin: templates/messages.yaml: %v", err))
	}
	return c
}

// loadCatalog reads and checks a catalog: every key Go uses is there, with
// a text, and only the placeholders it may use; nothing else is there.
func loadCatalog(data []byte) (*catalog, error) {
	var c catalog
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	errs := []error{checkMessages(c.Messages)}
	for _, table := range slices.Sorted(maps.Keys(labelTables)) {
		errs = append(errs, checkKeys("labels."+table, c.Labels[table], labelTables[table]))
	}
	for _, table := range slices.Sorted(maps.Keys(c.Labels)) {
		if _, ok := labelTables[table]; !ok {
			errs = append(errs, fmt.Errorf("labels.%s is not a table the console uses", table))
		}
	}
	statuses := map[string][]string{}
	for st, names := range c.Import.Statuses {
		if !st.Valid() {
			errs = append(errs, fmt.Errorf("import.statuses.%s is not a status", st))
		}
		statuses[string(st)] = names
	}
	errs = append(errs, checkWords("import.statuses", statuses, nil))
	errs = append(errs, checkWords("import.columns", c.Import.Columns, importColumns))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

// placeholderRE finds a message's {name} placeholders.
var placeholderRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.]*)\}`)

// checkMessages checks there is a text for every message Go uses, using
// only the placeholders Go fills in, and no other message.
func checkMessages(messages map[string]string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(messageKeys)) {
		text := messages[k]
		if strings.TrimSpace(text) == "" {
			errs = append(errs, fmt.Errorf("messages.%s is missing", k))
			continue
		}
		for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
			if !slices.Contains(messageKeys[k], m[1]) {
				errs = append(errs, fmt.Errorf("messages.%s: unknown placeholder {%s} (it may use: %s)", k, m[1], strings.Join(messageKeys[k], ", ")))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(messages)) {
		if _, ok := messageKeys[k]; !ok {
			errs = append(errs, fmt.Errorf("messages.%s is not a message the console uses (misspelt key?)", k))
		}
	}
	return errors.Join(errs...)
}

// checkKeys checks a label table has a label for exactly the keys.
func checkKeys(where string, table map[string]string, keys []string) error {
	var errs []error
	for _, k := range keys {
		if strings.TrimSpace(table[k]) == "" {
			errs = append(errs, fmt.Errorf("%s.%s is missing", where, k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(table)) {
		if !slices.Contains(keys, k) {
			errs = append(errs, fmt.Errorf("%s.%s is not a key the console uses", where, k))
		}
	}
	return errors.Join(errs...)
}

// checkWords checks a vocabulary: each key (exactly keys, unless nil) has
// words, none blank or holding a space, and no word stands for two keys.
func checkWords(where string, words map[string][]string, keys []string) error {
	var errs []error
	if keys != nil {
		for _, k := range keys {
			if len(words[k]) == 0 {
				errs = append(errs, fmt.Errorf("%s.%s is missing", where, k))
			}
		}
	}
	if len(words) == 0 && keys == nil {
		errs = append(errs, fmt.Errorf("%s is missing", where))
	}
	seen := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(words)) {
		if keys != nil && !slices.Contains(keys, k) {
			errs = append(errs, fmt.Errorf("%s.%s is not a key the console uses", where, k))
		}
		for _, w := range words[k] {
			switch {
			case w == "" || strings.ContainsFunc(w, func(r rune) bool { return r == ' ' || r == '\t' }):
				errs = append(errs, fmt.Errorf("%s.%s: %q is blank or holds a space", where, k, w))
			case seen[w] != "" && seen[w] != k:
				errs = append(errs, fmt.Errorf("%s.%s: %q is also a word of %s", where, k, w, seen[w]))
			}
			seen[w] = k
		}
	}
	return errors.Join(errs...)
}

// msg is the message key with its placeholders filled; kv are name, value
// pairs.
func msg(key string, kv ...string) string {
	return dialogs.Fill(texts.Messages[key], kv...)
}

// label is the name of value in a label table ("" for a value it does not
// know).
// EmbeddedAdminName is the display name of the admin account that serve
// creates on the embedded store.
func EmbeddedAdminName() string { return msg("account.embedded_admin_name") }

func label(table, value string) string { return texts.Labels[table][value] }
