package national

import (
	"log/slog"
	"time"

	"github.com/medsettle/medsettle/store"
)

// Gateway answers national-interface requests. It is an http.Handler
// (ServeHTTP) built by New.
type Gateway struct {
	svc    Services
	store  store.Store
	visits store.VisitStore
	cfg    *Config
	now    func() time.Time
	log    *slog.Logger
}
