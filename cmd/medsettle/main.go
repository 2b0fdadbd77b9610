// Command medsettle is the one binary of medsettle: `medsettle serve` runs
// the gRPC settlement server, `medsettle import` registers persons and
// institutions and enrols capitation members in bulk from CSV files,
// `medsettle clear` runs a clearing and reports it (table, CSV, HTML), and
// `medsettle demo settle` fills a demo server with settlements to clear.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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
  medsettle demo settle [--addr HOST:PORT] [--token TOKEN]
  medsettle help

Run "medsettle serve --help" for the flags of serve, "medsettle import" for the CSV formats,
"medsettle clear" for clearing, "medsettle demo" for the demo data. Client commands take
--tls-ca FILE for a TLS server and read the token from MEDSETTLE_TOKEN when --token is not given.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "medsettle:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
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
	case "demo":
		return runDemo(ctx, args[1:], os.Stdout, os.Stderr)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
