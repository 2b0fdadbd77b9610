// Command medsettle is the one binary of medsettle: `medsettle serve` runs
// the gRPC settlement server, `medsettle import` registers persons and
// institutions and enrols capitation members in bulk from CSV files,
// `medsettle clear` runs a clearing and reports it (table, CSV, HTML),
// `medsettle plan` exports a year's contribution plan (and compares it
// with a previous one),
// `medsettle demo settle` fills a demo server with settlements to clear,
// `medsettle policy validate` checks policy files offline, `medsettle
// receipt` prints a settlement slip and `medsettle version` says which
// build this is.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `medsettle: one-stop settlement engine for medical insurance

Usage:
  medsettle serve [--listen 127.0.0.1:50051] [--tokens FILE] [--policy FILE]...
                  [--database-url URL] [--demo] [--insecure] [--tls-cert F --tls-key F [--tls-client-ca F]]
  medsettle import persons|institutions FILE.csv [--addr HOST:PORT] [--token TOKEN]
  medsettle import members FILE.csv --contract ID [--addr HOST:PORT] [--token TOKEN]
  medsettle clear drg --region R --scheme employee|resident --year Y --budget MONEY [--from DATE --to DATE]
  medsettle clear budget --region R --scheme employee|resident --year Y
  medsettle clear capitation --contract ID
        clear options: [--final] [--csv DIR] [--html FILE] [--addr HOST:PORT] [--token TOKEN]
  medsettle plan --region R --scheme employee|resident --year Y [--as-of DATE] --csv FILE
                 [--diff PREVIOUS.csv [--diff-out FILE]] [--addr HOST:PORT] [--token TOKEN]
  medsettle demo settle [--addr HOST:PORT] [--token TOKEN]
  medsettle policy validate FILE.json...
  medsettle receipt --settlement ID [--addr HOST:PORT] [--token TOKEN]
  medsettle version
  medsettle help

Exit status: 0 done; 1 failed (import: some rows rejected; policy validate: a file has problems);
2 import stopped (bad file, header or flags, server unreachable or refusing).

Run "medsettle serve --help" for the flags of serve, "medsettle import" for the CSV formats,
"medsettle clear" for clearing, "medsettle plan --help" for contribution plans, "medsettle demo"
for the demo data. Client commands take
--tls-ca FILE for a TLS server and read the token from MEDSETTLE_TOKEN when --token is not given.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !flagReported(err) {
			fmt.Fprintln(os.Stderr, "medsettle:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError is an error with the exit status it ends the command with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the exit status for err: an exitError's code, else 1.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

// flagReported reports whether err is a flag package parse error, which
// the flag package has already printed to stderr with the usage.
func flagReported(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"flag provided but not defined:", "invalid value ", "invalid boolean ", "bad flag syntax:", "flag needs an argument:"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// run runs the command args names. A --help anywhere ends with the usage
// printed and no error.
func run(ctx context.Context, args []string) error {
	err := runCommand(ctx, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func runCommand(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("name a command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], os.Stderr)
	case "import":
		return runImport(ctx, args[1:], os.Stdout, os.Stderr)
	case "clear":
		return runClear(ctx, args[1:], os.Stdout, os.Stderr)
	case "plan":
		return runPlan(ctx, args[1:], os.Stdout, os.Stderr)
	case "demo":
		return runDemo(ctx, args[1:], os.Stdout, os.Stderr)
	case "policy":
		return runPolicy(args[1:], os.Stdout, os.Stderr)
	case "receipt":
		return runReceipt(ctx, args[1:], os.Stdout, os.Stderr)
	case "version", "--version":
		return runVersion(args[1:], os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
