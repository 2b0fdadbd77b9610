package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/api/national"
	"github.com/medsettle/medsettle/store"
)

// The national gateway's HTTP limits.
const (
	// nationalReadHeaderTimeout bounds the arrival of a request's headers.
	nationalReadHeaderTimeout = 10 * time.Second
	// nationalReadTimeout bounds the arrival of a whole request
	// (national.DefaultMaxBodyBytes at a slow hospital link's pace).
	nationalReadTimeout = time.Minute
	// nationalWriteTimeout bounds a request from its headers to the end of
	// its answer: the request timeout and the writing.
	nationalWriteTimeout = national.DefaultRequestTimeout + 30*time.Second
	// nationalIdleTimeout closes a kept-alive connection left idle.
	nationalIdleTimeout = 2 * time.Minute
	// nationalMaxHeaderBytes bounds a request's headers.
	nationalMaxHeaderBytes = 64 << 10
)

// gatewayServer is the national gateway's HTTP server and listener.
type gatewayServer struct {
	srv *http.Server
	lis net.Listener
}

// startNational loads --national-config and listens on --national-listen
// with the gateway over local (the gRPC server's services) and timed's
// visits and audit log (timed is st with every operation bounded, as the
// gRPC API's are: api.WithStoreTimeouts bounds the visits of a store that
// keeps them); TLS when tlsCfg is set; at most maxConns connections. It
// does not serve yet (serve).
func startNational(f serveFlags, st, timed store.Store, local *api.Local, tlsCfg *tls.Config, maxConns int, log *slog.Logger) (*gatewayServer, error) {
	cfg, err := national.LoadConfig(f.nationalConfig)
	if err != nil {
		return nil, err
	}
	visits, ok := timed.(store.VisitStore)
	if !ok {
		return nil, fmt.Errorf("--national-listen: the store (%T) keeps no national visits; this build cannot serve the gateway on it", st)
	}
	g, err := national.New(cfg, local, timed, visits, national.WithLogger(log))
	if err != nil {
		return nil, err
	}
	tcp, err := net.Listen("tcp", f.nationalListen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (--national-listen): %w", f.nationalListen, err)
	}
	var lis net.Listener = newLimitListener(tcp, maxConns, log)
	if tlsCfg != nil {
		lis = tls.NewListener(lis, tlsCfg.Clone())
	} else if !isLoopback(f.nationalListen) {
		log.Warn("the national gateway serves plain HTTP on a non-loopback address: the signatures do not cover the body; give --tls-cert and --tls-key",
			"addr", f.nationalListen)
	}
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: nationalReadHeaderTimeout,
		ReadTimeout:       nationalReadTimeout,
		WriteTimeout:      nationalWriteTimeout,
		IdleTimeout:       nationalIdleTimeout,
		MaxHeaderBytes:    nationalMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("national gateway serving", "addr", lis.Addr().String(), "scheme", cfg.Scheme, "area", cfg.Area,
		"institutions", len(cfg.Institutions), "tls", tlsCfg != nil)
	return &gatewayServer{srv: srv, lis: lis}, nil
}

// serve serves until shutdown; it returns nil after shutdown.
func (s *gatewayServer) serve() error {
	if err := s.srv.Serve(s.lis); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("national gateway: %w", err)
	}
	return nil
}

// shutdown stops taking requests and waits up to timeout for those in
// flight, then closes their connections.
func (s *gatewayServer) shutdown(timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		log.Warn("national gateway drain timed out; closing", "err", err)
		_ = s.srv.Close()
	}
}

// close releases the listener of a gateway that never served.
func (s *gatewayServer) close() { _ = s.lis.Close() }
