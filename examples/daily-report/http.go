package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// EnvHTTPAddr is where the app serves its HTTP pages (the admin page, and
// whatever else registers on the mux).
const EnvHTTPAddr = "BEIGNET_HTTP_ADDR"

// DefaultHTTPAddr keeps the pages on loopback unless configured otherwise:
// the admin page can pause schedules, so exposing it is a deliberate step,
// behind the app's own authentication.
const DefaultHTTPAddr = "127.0.0.1:8080"

// HTTPServer serves the app's one mux. Features add their routes to the
// *http.ServeMux it is built with (fx.Invoke(func(mux *http.ServeMux) ...)).
type HTTPServer struct {
	srv *http.Server
	ln  net.Listener
}

// Addr is the address the server listens on, once the app has started
// (useful when BEIGNET_HTTP_ADDR asks for port 0).
func (s *HTTPServer) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL.
func (s *HTTPServer) URL() string { return "http://" + s.Addr() }

// HTTP provides the shared *http.ServeMux and serves it on addr (host:port;
// port 0 picks a free one) for the app's lifetime.
func HTTP(addr string) fx.Option {
	return fx.Options(
		fx.Provide(http.NewServeMux, func(lc fx.Lifecycle, mux *http.ServeMux, log *zap.Logger) *HTTPServer {
			return newHTTPServer(lc, mux, log, addr)
		}),
		fx.Invoke(func(*HTTPServer) {}),
	)
}

func newHTTPServer(lc fx.Lifecycle, mux *http.ServeMux, log *zap.Logger, addr string) *HTTPServer {
	s := &HTTPServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("http: listen on %s (%s): %w", addr, EnvHTTPAddr, err)
			}
			s.ln = ln
			go func() {
				defer close(done)
				if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http: server stopped", zap.Error(err))
				}
			}()
			log.Info("http: serving", zap.String("addr", s.Addr()))
			return nil
		},
		OnStop: func(c context.Context) error {
			err := s.srv.Shutdown(c)
			<-done
			return err
		},
	})
	return s
}

// announceAdmin logs the admin page's URL at start, the first thing a
// newcomer running `make run` wants to open.
func announceAdmin(lc fx.Lifecycle, s *HTTPServer, log *zap.Logger) {
	lc.Append(fx.StartHook(func() {
		log.Info("admin page at " + s.URL() + adminPrefix)
	}))
}
