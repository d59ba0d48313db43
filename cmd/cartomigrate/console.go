package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// console writes everything the command says, to stderr as golang-migrate's CLI does. On a
// terminal it also keeps one live line at the bottom (the progress of a long Batch job), which it
// clears before any other output and draws again after it.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	verbose  bool // prefix lines with a timestamp, as the log package does in migrate -verbose
	live     string
}

func (c *console) Printf(format string, v ...any) { c.write(fmt.Sprintf(format, v...)) }

func (c *console) Println(v ...any) { c.write(fmt.Sprintln(v...)) }

func (c *console) write(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live != "" {
		io.WriteString(c.w, "\r\033[K")
	}
	if c.verbose {
		msg = time.Now().Format("2006/01/02 15:04:05 ") + msg
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	io.WriteString(c.w, msg)
	if c.live != "" {
		io.WriteString(c.w, c.live)
	}
}

// setLive replaces the live line; it does nothing off a terminal.
func (c *console) setLive(s string) {
	if !c.terminal {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = s
	io.WriteString(c.w, "\r\033[K"+s)
}

func (c *console) clearLive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live != "" {
		io.WriteString(c.w, "\r\033[K")
		c.live = ""
	}
}

// isTerminal reports whether f is a character device, which is all the live line needs to know.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
