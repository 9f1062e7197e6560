package dialogs

import (
	"encoding/json"
	"errors"
	"fmt"

	"regbot/store"
)

// SessionVersion is the version of the session's JSON form. A session with
// another version is migrated by Unmarshal or refused.
const SessionVersion = 1

// Session is one candidate's conversation state. It is a plain value that
// round-trips through Marshal (compact encoding, sessioncodec.go; the json
// tags are the older JSON form, still read): the fast copy lives in Redis,
// the snapshot in PostgreSQL, and either rebuilds the conversation exactly.
// A field added here is added to sessioncodec.go too
// (TestSessionCodecCarriesEveryField fails until it is).
type Session struct {
	Version int    `json:"v"`
	PlanID  string `json:"plan"`
	Channel string `json:"channel"`
	UserID  string `json:"user"`
	// Welcomed is set once the welcome was said.
	Welcomed bool `json:"welcomed,omitempty"`
	// Answers holds the answers by slot key: bool, float64 or string
	// (months "YYYY-MM", dates "YYYY-MM-DD" or "长期", choice ids, matched
	// list entries).
	Answers map[string]any `json:"answers"`
	// Work are the finished work history entries; Draft is the one being
	// filled in; WorkDone is set when the candidate said there are no more.
	Work     []store.WorkEntry `json:"work,omitempty"`
	Draft    *store.WorkEntry  `json:"draft,omitempty"`
	WorkDone bool              `json:"work_done,omitempty"`
	// Step is the question being asked (a slot key, "group.field",
	// "upload:<material>", "done" or "ineligible").
	Step string `json:"step"`
	// Trail are the steps answered, most recent last, for 上一步.
	Trail []string `json:"trail,omitempty"`
	// Fails counts wrong answers to the current step in a row.
	Fails int `json:"fails,omitempty"`
	// Help is set when a person was offered for the current step (after
	// wrong answers or a question the bot cannot answer): the question is
	// asked with a 转人工 choice until the step is answered.
	Help bool `json:"help,omitempty"`
	// EditWork is the 1-based index of the work period being changed by
	// 修改 (one field of it is asked), 0 otherwise.
	EditWork int `json:"edit_work,omitempty"`
	// Pending is a sub-question of the current step.
	Pending *Pending `json:"pending,omitempty"`
	// Condition is the chosen condition ("" while undecided or none holds).
	Condition string `json:"condition,omitempty"`
	// Decided is set once eligibility is decided (a condition, or none).
	Decided bool `json:"decided,omitempty"`
	// ChecklistShown is set once the materials checklist was sent.
	ChecklistShown bool `json:"checklist_shown,omitempty"`
	// Materials are the accepted uploads by material key.
	Materials map[string]MaterialState `json:"materials,omitempty"`
	// Status is the application's status.
	Status store.Status `json:"status"`
	// Escalations counts the tickets opened, for 进度.
	Escalations int `json:"escalations,omitempty"`
	// Fix are the steps a rejection re-opened that the candidate has not
	// given again yet, in order; Reason is the rejection's reason.
	Fix    []string `json:"fix,omitempty"`
	Reason string   `json:"reason,omitempty"`
	// PaymentURL is the candidate's payment page, when their move to
	// awaiting_payment carried one.
	PaymentURL string `json:"payment_url,omitempty"`
	// Handover is the ticket the candidate is talking to staff on: while
	// it is set, the bot forwards what they say instead of answering.
	Handover *Handover `json:"handover,omitempty"`
	// Questions is the ticket the candidate's unanswered questions went to
	// lately (they go to the same one for a while).
	Questions *TicketRef `json:"questions,omitempty"`
	// Failures is the review ticket the candidate's repeated wrong
	// answers opened lately: more of them go to it for a while instead of
	// each opening one.
	Failures *TicketRef `json:"failures,omitempty"`
	// Soon is the condition time alone will satisfy, when none holds yet;
	// Reminders counts the reminders ever queued (their keys).
	Soon      *Forecast `json:"soon,omitempty"`
	Reminders int       `json:"reminders,omitempty"`
	// MaterialsReminder is set while a reminder of the missing materials
	// is queued (the candidate said they would send them later).
	MaterialsReminder bool `json:"materials_reminder,omitempty"`
}

// PendingKind names a sub-question.
type PendingKind string

// The sub-questions a step may have.
const (
	// PendingSuggest: "您是指…？" choices for a near-miss list answer.
	PendingSuggest PendingKind = "suggest"
	// PendingUnlisted: a text not in the list: re-enter or keep it.
	PendingUnlisted PendingKind = "unlisted"
	// PendingEdit: the 修改 menu.
	PendingEdit PendingKind = "edit"
	// PendingFixOffer: the photo failed on fixable points; fix it?
	PendingFixOffer PendingKind = "fix_offer"
	// PendingFixConfirm: the fixed photo was shown; keep it?
	PendingFixConfirm PendingKind = "fix_confirm"
	// PendingRestart: 重新开始 clears everything; really?
	PendingRestart PendingKind = "restart"
	// PendingWhich: an image came without a material asked for it, or
	// the candidate wants to send another one: which material is it?
	PendingWhich PendingKind = "which_material"
	// PendingEditField: 修改 of one work period: which part of it?
	PendingEditField PendingKind = "edit_field"
)

// Pending is a sub-question of the current step.
type Pending struct {
	Kind PendingKind `json:"kind"`
	// Value is the candidate's raw text (suggest, unlisted) or a blob
	// reference (fix offer/confirm, an image waiting for its material).
	Value string `json:"value,omitempty"`
	// Material is the material an upload sub-question is about.
	Material string `json:"material,omitempty"`
	// Hash and Print identify the image a which-material question is
	// about (see MaterialState).
	Hash  string          `json:"hash,omitempty"`
	Print store.ImageHash `json:"print,omitempty"`
	// Choices are what was offered.
	Choices []Choice `json:"choices,omitempty"`
}

// MaterialState is one material's accepted upload.
type MaterialState struct {
	Ref string `json:"ref,omitempty"`
	// Hash is the SHA-256 of the file as sent (hex) and Print its
	// perceptual hash when one is computed: the same file, or a
	// near-identical one, is refused for a second material.
	Hash  string          `json:"hash,omitempty"`
	Print store.ImageHash `json:"print,omitempty"`
	// Escalated means staff decide this material (no upload asked).
	Escalated bool `json:"escalated,omitempty"`
}

// Identity returns the session's store identity.
func (s *Session) Identity() store.Identity {
	return store.Identity{Channel: s.Channel, UserID: s.UserID}
}

// Marshal returns the session's compact encoding (sessioncodec.go), or its
// JSON form when an answer is of a type the compact form does not carry.
func (s *Session) Marshal() ([]byte, error) {
	data, err := encodeSession(s)
	if errors.Is(err, errAnswerType) {
		data, err = json.Marshal(s)
	}
	if err != nil {
		return nil, fmt.Errorf("marshal session: %w", err)
	}
	return data, nil
}

// NewSession returns a fresh session for id on the engine's plan.
func (e *Engine) NewSession(id store.Identity) *Session {
	return &Session{
		Version: SessionVersion,
		PlanID:  e.plan.ID,
		Channel: id.Channel,
		UserID:  id.UserID,
		Answers: map[string]any{},
		Status:  store.StatusCollecting,
	}
}

// Unmarshal reads a session written by Marshal: the compact encoding, or
// the JSON form (sessions written before it, in Redis and in the record).
// Another first byte is an unknown encoding, an error.
func (e *Engine) Unmarshal(data []byte) (*Session, error) {
	s, err := DecodeSession(data)
	if err != nil {
		return nil, err
	}
	if s.Version != SessionVersion {
		return nil, fmt.Errorf("unmarshal session: version %d, want %d", s.Version, SessionVersion)
	}
	if s.Answers == nil {
		s.Answers = map[string]any{}
	}
	return s, nil
}

// DecodeSession decodes a session in either encoding Marshal writes,
// without the engine's version check.
func DecodeSession(data []byte) (*Session, error) {
	switch {
	case len(data) > 0 && data[0] == sessionBinary:
		s, err := decodeSession(data)
		if err != nil {
			return nil, fmt.Errorf("unmarshal session: %w", err)
		}
		return s, nil
	case len(data) > 0 && data[0] == '{':
		var s Session
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("unmarshal session: %w", err)
		}
		return &s, nil
	case len(data) == 0:
		return nil, errors.New("unmarshal session: empty")
	default:
		return nil, fmt.Errorf("unmarshal session: unknown encoding %#x", data[0])
	}
}
