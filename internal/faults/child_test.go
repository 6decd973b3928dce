package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"

	"github.com/beignet-go/beignet/internal/testserver"
)

// roleEnv makes the test binary act as a worker process instead of running
// tests.
const roleEnv = "BEIGNET_FAULTS_ROLE"

// quietRedis drops go-redis's own log lines: the outage tests make it
// report every failed dial, which buries the test output.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	switch os.Getenv(roleEnv) {
	case "":
		goleak.VerifyTestMain(testserver.Main(m))
	case "scheduler":
		os.Exit(runSchedulerWorker())
	case "holder":
		os.Exit(runHolderWorker())
	default:
		fmt.Fprintln(os.Stderr, "unknown role", os.Getenv(roleEnv))
		os.Exit(2)
	}
}

// event is one line a worker prints on stdout.
type event struct {
	Kind     string    `json:"kind"` // start, report, acquired, wrote
	Instance string    `json:"instance"`
	Tick     time.Time `json:"tick"`
	Outcome  string    `json:"outcome,omitempty"`
	Token    uint64    `json:"token,omitempty"`
	Attempt  int       `json:"attempt,omitempty"`
	OK       bool      `json:"ok,omitempty"`
	Err      string    `json:"err,omitempty"`
}

func emit(e event) {
	b, _ := json.Marshal(e)
	fmt.Println(string(b))
}

func workerClient() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: os.Getenv("REDIS_ADDR"), MaxRetries: -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// runSchedulerWorker runs one scheduler instance whose handler takes
// HANDLER_MS, printing a line when each run starts and one per report,
// until SIGTERM.
func runSchedulerWorker() int {
	client := workerClient()
	defer client.Close()
	c := client
	instance := os.Getenv("INSTANCE")
	ttl, _ := time.ParseDuration(os.Getenv("TTL"))
	work, _ := time.ParseDuration(os.Getenv("HANDLER"))
	ports := &ctx.Ports{Locks: redislocks.New(c, os.Getenv("PREFIX")), Ledger: redislocks.NewLedger(c, os.Getenv("PREFIX")), Clock: clockworkReal(), Logger: zap.NewNop()}
	s := scheduler.New(ports, scheduler.WithInstanceID(instance),
		scheduler.WithHook(scheduler.HookFunc(func(r scheduler.Report) {
			e := event{Kind: "report", Instance: r.Instance, Tick: r.Tick, Outcome: string(r.Outcome), Token: r.FencingToken}
			if r.Err != nil {
				e.Err = r.Err.Error()
			}
			emit(e)
		})))
	err := s.Add("job", os.Getenv("SPEC"), func(c *ctx.Context) error {
		run, _ := scheduler.RunFrom(c)
		emit(event{Kind: "start", Instance: instance, Tick: run.Tick, Token: run.Lease.FencingToken(), Attempt: run.Attempt})
		select {
		case <-time.After(work): // the job's work
		case <-c.Done():
			return context.Cause(c)
		}
		// The job's own side effect, which the tests count: one per
		// finished run of a tick.
		if key := os.Getenv("DONE_KEY"); key != "" {
			if err := client.HIncrBy(c, key, run.Tick.UTC().Format(time.RFC3339Nano), 1).Err(); err != nil {
				return err
			}
		}
		return nil
	}, scheduler.LeaseTTL(ttl))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop := make(chan os.Signal, 1)
	signalNotify(stop)
	<-stop
	_ = s.Stop(context.Background())
	return 0
}

// worker is a child process and the events it printed.
type worker struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan event
	done   chan struct{}
}

func startWorker(t *testing.T, role string, env ...string) *worker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{roleEnv + "=" + role}, env...)...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{t: t, cmd: cmd, stdin: stdin, events: make(chan event, 1000), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				w.events <- e
			}
		}
		_ = cmd.Wait()
		close(w.events)
	}()
	t.Cleanup(w.kill)
	return w
}

func (w *worker) signal(s syscall.Signal) { _ = w.cmd.Process.Signal(s) }

// pause SIGSTOPs the worker and returns once the kernel reports it stopped:
// kill(2) returns before the stop takes effect, and a worker that runs on
// for a moment is not paused at all.
func (w *worker) pause() {
	w.t.Helper()
	w.signal(syscall.SIGSTOP)
	stat := "/proc/" + strconv.Itoa(w.cmd.Process.Pid) + "/stat"
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(stat)
		// The state is the field after the parenthesised command name.
		if i := bytes.LastIndexByte(b, ')'); err == nil && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("worker %d did not stop: %s", w.cmd.Process.Pid, b)
		}
		<-time.After(time.Millisecond)
	}
}

// stop asks the worker to stop gracefully and waits for it.
func (w *worker) stop() {
	w.signal(syscall.SIGTERM)
	<-w.done
}

func (w *worker) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGCONT)
	_ = w.cmd.Process.Kill()
	<-w.done
}
