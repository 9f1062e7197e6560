package main

import (
	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/notify"
)

// broadcastRecord is what broadcasts need of the record
// (store/postgres.Store).
type broadcastRecord interface {
	broadcasts.Store
	broadcasts.RunnerStore
}

// newBroadcasts builds the broadcast service and this process's Runner on
// the database record (none on the embedded store).
func (s *server) newBroadcasts(plan *dialogs.Plan, blobs dialogs.BlobStore) error {
	if s.stores.broadcasts == nil {
		return nil
	}
	s.broadcastService = broadcasts.NewService(s.stores.broadcasts, plan, blobs, s.log)
	r, err := broadcasts.NewRunner(s.cfg.Broadcasts, s.broadcastService, s.stores.broadcasts, s.notifier, s.stores.pace, s.log)
	if err != nil {
		return err
	}
	s.broadcasts = r
	return nil
}

// paced is channel's sender with the broadcasts' shared rate applied to
// its broadcast messages (Runner.Pace), or as it is without broadcasts.
func (s *server) paced(channel string, sender notify.Sender) notify.Sender {
	if s.broadcasts == nil {
		return sender
	}
	return s.broadcasts.Pace(channel, sender)
}
