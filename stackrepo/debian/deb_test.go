package debian

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"time"
)

// buildDeb makes a .deb with dpkg-deb from a control file, compressed
// with compressor (gzip, xz, zstd, none).
func buildDeb(t *testing.T, control, compressor string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatal("dpkg-deb is required for this test: apt-get install dpkg")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr", "share", "doc", "dh-app"), 0o755); err != nil {
		t.Fatal(err)
	}
	var readme strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&readme, "line %d of a README that the data archive holds\n", i*i)
	}
	if err := os.WriteFile(filepath.Join(root, "usr", "share", "doc", "dh-app", "README"), []byte(readme.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "out.deb")
	out, err := exec.Command("dpkg-deb", "-Z"+compressor, "--root-owner-group", "--build", root, deb).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

func readDebFile(t *testing.T, file string) (*Paragraph, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return readDebBytes(data)
}

func readDebBytes(data []byte) (*Paragraph, error) {
	return ReadDeb(bytes.NewReader(data), int64(len(data)))
}

func TestReadDeb(t *testing.T) {
	control := "Package: dh-app\nVersion: 1:2.0-1\nArchitecture: amd64\nMaintainer: Rel Eng <releng@example.com>\nDescription: an app\n more about it\n"
	for _, z := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(z, func(t *testing.T) {
			p, err := readDebFile(t, buildDeb(t, control, z))
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"Package": "dh-app", "Version": "1:2.0-1", "Architecture": "amd64", "Description": "an app\nmore about it"} {
				if v, _ := p.Value(name); v != want {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
		})
	}
}

// arMember is one member of a hand-made ar archive; size, when set, is
// written in the header instead of the data's length.
type arMember struct {
	name string
	data []byte
	size string
}

func arArchive(members ...arMember) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range members {
		size := m.size
		if size == "" {
			size = fmt.Sprint(len(m.data))
		}
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10s`\n", m.name, 0, 0, 0, "100644", size)
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// controlTarGz is a control.tar.gz holding the given entries.
func controlTarGz(t testing.TB, entries ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	tw := tar.NewWriter(z)
	for _, h := range entries {
		h.ModTime = time.Unix(0, 0)
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
			h.Linkname = ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// reg is a regular file entry whose contents travel in Linkname (see
// controlTarGz).
func reg(name, body string) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Linkname: body}
}

func TestReadDebRefuses(t *testing.T) {
	binary := arMember{name: "debian-binary", data: []byte("2.0\n")}
	good := controlTarGz(t, &tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}, reg("./control", "Package: dh-app\nVersion: 1.0\n"))
	data := arMember{name: "data.tar.gz", data: controlTarGz(t, reg("./usr/bin/app", "#!/bin/sh\n"))}
	control := arMember{name: "control.tar.gz", data: good}
	if p, err := readDebBytes(arArchive(binary, arMember{name: "_gpgorigin", data: []byte("sig")}, arMember{name: "control.tar.gz", data: good}, data, arMember{name: "_extra", data: []byte("after data")})); err != nil {
		t.Fatalf("a well-formed hand-made .deb: %v", err)
	} else if v, _ := p.Value("Package"); v != "dh-app" {
		t.Fatalf("Package %q", v)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not ar", []byte("Package: dh-app\n"), "not a Debian package: it is not an ar archive"},
		{"empty", nil, "not a Debian package: it is not an ar archive"},
		{"empty ar", arArchive(), "no control.tar member"},
		{"control only", arArchive(binary, control), "no data.tar member"},
		{"first member", arArchive(arMember{name: "control.tar.gz", data: good}), `its first member is "control.tar.gz", not debian-binary`},
		{"format 1", arArchive(arMember{name: "debian-binary", data: []byte("1.0\n")}), "not a Debian package of format 2.x"},
		{"data before control", arArchive(binary, arMember{name: "data.tar.gz", data: good}), `member "data.tar.gz" comes where control.tar belongs`},
		// a size of -60 sends a naive reader back to the same header forever
		{"negative size", arArchive(binary, arMember{name: "x", size: "-60"}), "negative size"},
		{"bzip2 control", arArchive(binary, arMember{name: "control.tar.bz2", data: good}), `compressed with ".bz2"`},
		{"not gzip", arArchive(binary, arMember{name: "control.tar.gz", data: []byte("plain")}), "does not decompress"},
		{"no control file", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./postinst", "#!/bin/sh\n"))}), "has no control file"},
		{"control symlink", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, &tar.Header{Name: "./control", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})}), "its control file is not a regular file"},
		{"two paragraphs", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./control", "Package: a1\n\nPackage: b1\n"))}), "its control file has 2 paragraphs, not one"},
		{"bad line", arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./control", "Package: a1\nnonsense\n"))}), `its control file: line 2: "nonsense" is not "Field: value"`},
		{"no data", arArchive(binary, control), "it has no data.tar member"},
		{"data not tar", arArchive(binary, control, arMember{name: "data.tar", data: []byte("not a tar archive at all, but longer than nothing")}), "its member data.tar is damaged"},
		{"two controls", arArchive(binary, control, control, data), "it has a second control.tar member (control.tar.gz)"},
		{"two datas", arArchive(binary, control, data, data), "it has a second data.tar member (data.tar.gz)"},
		{"other before data", arArchive(binary, control, arMember{name: "README", data: []byte("x")}, data), `member "README" comes where data.tar belongs`},
		{"bzip2 control ok, bad data ext", arArchive(binary, control, arMember{name: "data.tar.rar", data: []byte("x")}), `compressed with ".rar"`},
		{"format 2 without minor", arArchive(arMember{name: "debian-binary", data: []byte("2.\n")}, control, data), "not a Debian package of format 2.x"},
		{"member cut", arArchive(binary, arMember{name: "control.tar.gz", data: good, size: fmt.Sprint(len(good) + 10)}), "it is cut short: its member control.tar.gz is"},
		{"header cut", append(arArchive(binary, control, data), "_x   "...), "it is cut short: it ends inside the header of its member 4"},
		{"many members", arArchive(append([]arMember{binary}, slices.Repeat([]arMember{{name: "_x", data: []byte("x")}}, 20)...)...), "more than 16 ar members"},
	} {
		_, err := readDebBytes(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestReadDebRefusesDamage cuts and corrupts real .debs: each is
// refused, as dpkg-deb refuses it.
func TestReadDebRefusesDamage(t *testing.T) {
	control := "Package: dh-app\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: x\n"
	for _, z := range []string{"gzip", "xz", "zstd", "none"} {
		t.Run(z, func(t *testing.T) {
			file := buildDeb(t, control, z)
			whole, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readDebBytes(whole); err != nil {
				t.Fatalf("the whole .deb: %v", err)
			}
			// every prefix but the whole file (and the whole file
			// without the padding byte of an odd-sized last member)
			dataAt := bytes.Index(whole, []byte("data.tar"))
			var dataSize int
			fmt.Sscan(string(whole[dataAt+48:dataAt+58]), &dataSize)
			complete := dataAt + 60 + dataSize
			for n := 0; n < complete; n++ {
				if _, err := readDebBytes(whole[:n]); err == nil {
					t.Errorf("the first %d bytes of %d were read as a .deb", n, len(whole))
				}
			}
			_, err = readDebBytes(whole[:dataAt])
			if err == nil || !strings.Contains(err.Error(), "no data.tar member") {
				t.Errorf("cut before data.tar: %v", err)
			}
			_, err = readDebBytes(whole[:600])
			if err == nil || !strings.Contains(err.Error(), "it is cut short") {
				t.Errorf("cut at 600: %v", err)
			}
			if z == "none" {
				return // a tar archive has no checksum of its contents
			}
			// a flipped byte inside the compressed data stream (some
			// bytes, of headers and padding, change nothing decompressed)
			stream := whole[dataAt+60 : complete]
			plain, err := decompressAll(z, stream)
			if err != nil {
				t.Fatal(err)
			}
			refused := 0
			for i := 0; i < len(stream); i += 7 {
				bad := slices.Clone(whole)
				bad[dataAt+60+i] ^= 0x20
				_, err := readDebBytes(bad)
				if got, derr := decompressAll(z, bad[dataAt+60:complete]); derr == nil && bytes.Equal(got, plain) {
					continue // the same data
				}
				if err == nil || !strings.Contains(err.Error(), "its member data.tar") {
					t.Errorf("a flipped byte at %d of data.tar's %d: %v", i, len(stream), err)
				}
				refused++
			}
			if refused < len(stream)/7/2 {
				t.Errorf("only %d flipped bytes changed the data", refused)
			}
		})
	}
}

// decompressAll is the data stream decompressed, as dpkg-deb -Z z writes it.
func decompressAll(z string, stream []byte) ([]byte, error) {
	ext := map[string]string{"gzip": ".gz", "xz": ".xz", "zstd": ".zst"}[z]
	r, err := decompress(ext, bytes.NewReader(stream))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// TestReadDebBomb: a data archive that decompresses to much more than
// its ratio allows is refused, without inflating it all.
func TestReadDebBomb(t *testing.T) {
	binary := arMember{name: "debian-binary", data: []byte("2.0\n")}
	control := arMember{name: "control.tar.gz", data: controlTarGz(t, reg("./control", "Package: dh-app\nVersion: 1.0\n"))}
	var b bytes.Buffer
	z, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(z)
	const size = 200 << 20
	if err := tw.WriteHeader(&tar.Header{Name: "./zeros", Typeflag: tar.TypeReg, Size: size, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = readDebBytes(arArchive(binary, control, arMember{name: "data.tar.zst", data: b.Bytes()}))
	if err == nil || !strings.Contains(err.Error(), "decompresses to more than") {
		t.Errorf("a bomb: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// FuzzReadDeb checks that no file makes the .deb reader panic or
// loop, whatever its ar headers and members say.
func FuzzReadDeb(f *testing.F) {
	binary := arMember{name: "debian-binary", data: []byte("2.0\n")}
	f.Add(arArchive(binary, arMember{name: "control.tar.gz", data: controlTarGz(f, reg("./control", "Package: a1\nVersion: 1\n"))}))
	f.Add(arArchive(binary, arMember{name: "x", size: "-60"}))
	f.Add(arArchive(binary, arMember{name: "control.tar", data: []byte("not a tar")}))
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := readDebBytes(data)
		if err == nil && p == nil {
			t.Fatal("no paragraph and no error")
		}
	})
}
