package remote

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Output of any size, with lines of any length, goes through in bounded
// memory: a line is kept up to maxLine bytes (enough for any line parsed,
// such as trebuchet's Built: lines), and shown up to showLine bytes.
const (
	maxLine  = 64 << 10
	showLine = 4 << 10
)

// lineSplitter cuts a stream into lines (without "\n" or a final "\r")
// and hands each to emit, with the number of bytes cut off its end. The
// last line needs no newline: Close hands it over.
type lineSplitter struct {
	buf  []byte
	cut  int
	emit func(line []byte, cut int)
}

func newLineSplitter(emit func(line []byte, cut int)) *lineSplitter {
	return &lineSplitter{emit: emit}
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		room := max(maxLine-len(l.buf), 0)
		if len(chunk) <= room {
			l.buf = append(l.buf, chunk...)
		} else {
			l.buf = append(l.buf, chunk[:room]...)
			l.cut += len(chunk) - room
		}
		if i < 0 {
			break
		}
		l.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (l *lineSplitter) flush() {
	line := l.buf
	if l.cut == 0 {
		line = bytes.TrimSuffix(line, []byte("\r"))
	}
	l.emit(line, l.cut)
	l.buf, l.cut = l.buf[:0], 0
}

// Close hands over a last line that has no newline.
func (l *lineSplitter) Close() error {
	if len(l.buf) > 0 || l.cut > 0 {
		l.flush()
	}
	return nil
}

// showTo writes each line to w, a long one shortened to showLine bytes
// (on a rune boundary) with its length, with its control characters
// shown rather than obeyed (escaped).
func showTo(w io.Writer) func(line []byte, cut int) {
	var out []byte
	return func(line []byte, cut int) {
		out = out[:0]
		total := len(line) + cut
		if total > showLine {
			i := showLine
			for i > 0 && !utf8.RuneStart(line[i]) {
				i--
			}
			line = line[:i]
		}
		out = termtext.AppendEscaped(out, line)
		if total > showLine {
			out = fmt.Appendf(out, "… (a line of %d bytes, shortened)", total)
		}
		out = append(out, '\n')
		w.Write(out)
	}
}

// lineWriter is an io.Writer that shows whole lines on w (see showTo).
func lineWriter(w io.Writer) *lineSplitter { return newLineSplitter(showTo(w)) }
