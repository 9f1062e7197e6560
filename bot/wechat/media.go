package wechat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"regbot/dialogs"
)

// mediaTTL is how long an uploaded image's media_id is reused. WeChat keeps
// temporary media three days; the margin covers a send retried late.
const mediaTTL = 60 * time.Hour

// codeInvalidMediaID is WeChat's answer to a media_id it no longer has.
const codeInvalidMediaID = 40007

// mediaKey names the cached media_id of an image by the SHA-256 of its
// bytes (the hash of a picture, never the picture).
func mediaKey(prefix, appID string, data []byte) string {
	sum := sha256.Sum256(data)
	return prefix + "media:" + appID + ":" + hex.EncodeToString(sum[:])
}

// mediaID returns a temporary media_id for img: the one uploaded before for
// the same bytes (shared between instances like the token), else a new
// upload. A broadcast's picture is uploaded once, not once per recipient.
func (a *Adapter) mediaID(ctx context.Context, img *dialogs.OutImage) (string, error) {
	key := mediaKey(a.prefix, a.cfg.AppID, img.Data)
	if id, err := a.kv.getString(ctx, key); err == nil && id != "" {
		return id, nil
	}
	name := img.Name
	if name == "" {
		name = "image.png"
	}
	id, err := a.api.uploadImage(ctx, name, img.Data)
	if err != nil {
		return "", err
	}
	if err := a.kv.SetContext(ctx, key, id, mediaTTL); err != nil {
		a.log.Warn("wechat media id not cached", "channel", Channel, "err", err)
	}
	return id, nil
}

// forgetMedia drops img's cached media_id after WeChat refused it (40007),
// so the next attempt uploads the image again.
func (a *Adapter) forgetMedia(ctx context.Context, img *dialogs.OutImage, err error) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == codeInvalidMediaID {
		_ = a.kv.DeleteContext(ctx, mediaKey(a.prefix, a.cfg.AppID, img.Data))
	}
}
