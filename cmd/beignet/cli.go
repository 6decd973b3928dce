package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // a server cannot be reached, or the command failed
	exitUsage   = 2
)

// usageError is bad usage: the status is exitUsage and the usage hint is
// printed.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one verb of the CLI.
type command struct {
	name    string // as typed, e.g. "outbox dead"
	args    string // positional arguments, for the usage text
	summary string
	// flags adds the command's own flags.
	flags func(fs *flag.FlagSet, o *opts)
	// run does the work. pos are the positional arguments.
	run func(ctx context.Context, inv *invocation, pos []string) error
}

// opts are the parsed flags of one invocation.
type opts struct {
	json        bool
	timeout     time.Duration
	redisURL    string
	redisPrefix string
	databaseURL string
	schema      string
	limit       int
	allDead     bool
}

// invocation is one run of a command: its flags and where output goes.
type invocation struct {
	o      opts
	stdout io.Writer
}

var commands = []command{
	schedulesCommand,
	runsCommand,
	pauseCommand,
	resumeCommand,
	runCommand,
	leasesCommand,
	outboxCommand,
	outboxDeadCommand,
	outboxRetryCommand,
}

// run executes args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "beignet: no command")
		usage(stderr)
		return exitUsage
	}
	if a := args[0]; a == "help" || a == "-h" || a == "-help" || a == "--help" {
		usage(stdout)
		return exitOK
	}
	cmd, rest, ok := lookup(args)
	if !ok {
		fmt.Fprintf(stderr, "beignet: unknown command %q\n", strings.Join(args[:min(2, len(args))], " "))
		usage(stderr)
		return exitUsage
	}
	err := cmd.invoke(ctx, rest, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "beignet %s: %s\n", cmd.name, ue.msg)
		fmt.Fprintf(stderr, "usage: beignet %s [flags]; beignet %s -h for the flags\n", cmd.synopsis(), cmd.name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "beignet %s: %s\n", cmd.name, oneLine(err.Error()))
		return exitFailure
	}
}

// lookup finds the longest command name that args start with.
func lookup(args []string) (command, []string, bool) {
	var best command
	words := 0
	for _, c := range commands {
		name := strings.Fields(c.name)
		if len(name) > words && len(args) >= len(name) && slices.Equal(args[:len(name)], name) {
			best, words = c, len(name)
		}
	}
	return best, args[words:], words > 0
}

func (c command) synopsis() string {
	if c.args == "" {
		return c.name
	}
	return c.name + " " + c.args
}

// invoke parses the command's flags, which may come before, between or
// after its positional arguments (as kubectl's do), then runs it.
func (c command) invoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o opts
	fs := flag.NewFlagSet("beignet "+c.name, flag.ContinueOnError)
	// The flag package would print a bad flag's error and then every
	// flag; run prints the error once, in one line, with a short hint.
	// Only -h lists the flags.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	printUsage := func() {
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "usage: beignet %s [flags]\n\n%s\n\nflags:\n", c.synopsis(), c.summary)
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of a table")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up after this long")
	fs.StringVar(&o.redisURL, "redis-url", "", "Redis URL (default $"+redislocks.EnvURL+", else "+redislocks.DefaultURL+")")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "", "key prefix (default $"+redislocks.EnvPrefix+", else "+redislocks.DefaultPrefix+")")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL URL of the outbox (default $"+outbox.EnvOutboxDatabaseURL+", else $"+outbox.EnvDatabaseURL+")")
	fs.StringVar(&o.schema, "schema", "", "schema of the outbox tables (default $"+outbox.EnvSchema+", else "+outbox.DefaultSchema+")")
	if c.flags != nil {
		c.flags(fs, &o)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return err
		}
		return usageError{oneLine(err.Error())}
	}
	if o.timeout <= 0 {
		return usagef("--timeout %v: want > 0", o.timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return c.run(ctx, &invocation{o: o, stdout: stdout}, pos)
}

// parseInterspersed parses flags anywhere in args; everything after "--"
// is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: beignet <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-28s %s\n", c.synopsis(), c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --json (one JSON document instead of a table), --timeout,")
	fmt.Fprintln(w, "--redis-url, --redis-prefix, --database-url and --schema; -h after a command")
	fmt.Fprintln(w, "lists them. Exit status: 0 success, 1 server unreachable or command failed,")
	fmt.Fprintln(w, "2 bad usage.")
}

// oneLine keeps an error to one line, as a terminal and a log scraper
// both expect.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
