package telegram

import (
	"encoding/json"

	"github.com/go-telegram/bot/models"
)

// slimUpdate is the part of a Bot API update the adapter reads
// (parseUpdate). The webhook decodes the body into it rather than into
// models.Update, a tree of hundreds of fields (a Message alone is 1 KB)
// that encoding/json would allocate and fill for every update: what
// slimUpdate does not name (the sender's names, entities, the many kinds of
// message the adapter ignores) is skipped unread. A polled update, which the
// library has decoded already, is cut down to one by slimOf.
//
// Each field has the name, JSON key and Go type of its models counterpart,
// the slim types standing for models' ones, and the leaves the adapter
// reads whole (PhotoSize, Document, Contact, the keyboard, the rare
// my_chat_member) are models' own. So a body that decodes into slimUpdate
// decodes into models.Update with the same values, and parseUpdate reads
// the same from either (TestSlimUpdateDecode, FuzzUpdateDecode). The one
// difference: a value of the wrong type where the adapter does not read (an
// "edited_message": 5, a first_name that is a number) fails models.Update's
// decoding and not slimUpdate's. Telegram sends no such update.
type slimUpdate struct {
	ID            int64                     `json:"update_id"`
	Message       *slimMessage              `json:"message"`
	CallbackQuery *slimCallbackQuery        `json:"callback_query"`
	MyChatMember  *models.ChatMemberUpdated `json:"my_chat_member"`
}

// slimMessage is the part of a models.Message the adapter reads. Of the
// kinds of content it only names (a voice message, a sticker…), only
// whether they are there is kept.
type slimMessage struct {
	ID          int                          `json:"message_id"`
	From        *slimUser                    `json:"from"`
	Chat        slimChat                     `json:"chat"`
	Text        string                       `json:"text"`
	Caption     string                       `json:"caption"`
	Photo       []models.PhotoSize           `json:"photo"`
	Document    *models.Document             `json:"document"`
	Contact     *models.Contact              `json:"contact"`
	ReplyMarkup *models.InlineKeyboardMarkup `json:"reply_markup"`

	Animation *struct{} `json:"animation"`
	Audio     *struct{} `json:"audio"`
	Dice      *struct{} `json:"dice"`
	Location  *struct{} `json:"location"`
	Poll      *struct{} `json:"poll"`
	Sticker   *struct{} `json:"sticker"`
	Venue     *struct{} `json:"venue"`
	Video     *struct{} `json:"video"`
	VideoNote *struct{} `json:"video_note"`
	Voice     *struct{} `json:"voice"`
}

// slimUser is the part of a models.User the adapter reads.
type slimUser struct {
	ID    int64 `json:"id"`
	IsBot bool  `json:"is_bot"`
}

// slimChat is the part of a models.Chat the adapter reads.
type slimChat struct {
	ID   int64           `json:"id"`
	Type models.ChatType `json:"type"`
}

// slimCallbackQuery is the part of a models.CallbackQuery the adapter
// reads.
type slimCallbackQuery struct {
	ID      string              `json:"id"`
	From    slimUser            `json:"from"`
	Message slimCallbackMessage `json:"message"`
	Data    string              `json:"data"`
}

// slimCallbackMessage is models.MaybeInaccessibleMessage with a
// slimMessage.
type slimCallbackMessage struct {
	Message             *slimMessage
	InaccessibleMessage *models.InaccessibleMessage
}

// UnmarshalJSON does what models.MaybeInaccessibleMessage's does: a message
// dated 0 is one the bot can no longer read. Like it, it leaves the other
// kind alone (which shows only when a "message" key is repeated).
func (m *slimCallbackMessage) UnmarshalJSON(data []byte) error {
	var v struct {
		Date int `json:"date"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.Date == 0 {
		m.InaccessibleMessage = &models.InaccessibleMessage{}
		return json.Unmarshal(data, m.InaccessibleMessage)
	}
	m.Message = &slimMessage{}
	return json.Unmarshal(data, m.Message)
}

// slimOf is the part of a polled update the adapter reads.
func slimOf(upd *models.Update) *slimUpdate {
	s := &slimUpdate{ID: upd.ID, Message: slimMessageOf(upd.Message), MyChatMember: upd.MyChatMember}
	if cq := upd.CallbackQuery; cq != nil {
		s.CallbackQuery = &slimCallbackQuery{
			ID:   cq.ID,
			From: slimUser{ID: cq.From.ID, IsBot: cq.From.IsBot},
			Message: slimCallbackMessage{
				Message:             slimMessageOf(cq.Message.Message),
				InaccessibleMessage: cq.Message.InaccessibleMessage,
			},
			Data: cq.Data,
		}
	}
	return s
}

func slimMessageOf(m *models.Message) *slimMessage {
	if m == nil {
		return nil
	}
	s := &slimMessage{
		ID:          m.ID,
		Chat:        slimChat{ID: m.Chat.ID, Type: m.Chat.Type},
		Text:        m.Text,
		Caption:     m.Caption,
		Photo:       m.Photo,
		Document:    m.Document,
		Contact:     m.Contact,
		ReplyMarkup: m.ReplyMarkup,
		Animation:   present(m.Animation != nil),
		Audio:       present(m.Audio != nil),
		Dice:        present(m.Dice != nil),
		Location:    present(m.Location != nil),
		Poll:        present(m.Poll != nil),
		Sticker:     present(m.Sticker != nil),
		Venue:       present(m.Venue != nil),
		Video:       present(m.Video != nil),
		VideoNote:   present(m.VideoNote != nil),
		Voice:       present(m.Voice != nil),
	}
	if m.From != nil {
		s.From = &slimUser{ID: m.From.ID, IsBot: m.From.IsBot}
	}
	return s
}

// present is the stand-in for a kind of content a message has.
func present(has bool) *struct{} {
	if !has {
		return nil
	}
	return &struct{}{}
}
