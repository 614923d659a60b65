package report

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetfix/fleetfix/internal/golden"
	"github.com/fleetfix/fleetfix/internal/labtest"
	"github.com/fleetfix/fleetfix/jsonl"
)

// chromium finds Debian's headless browser, skipping the test without one
// (failing it under FLEETFIX_LAB_REQUIRED, as CI runs) and in -short.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("loads the page in headless Chromium: not in -short")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(labtest.RequireEnv) != "" {
		t.Fatal("no chromium on PATH (scripts/deps.sh installs it)")
	}
	t.Skip("no chromium on PATH (scripts/deps.sh installs it)")
	return ""
}

// screenshot loads page in headless Chromium and returns its screenshot,
// in dark mode when dark.
func screenshot(t *testing.T, browser string, page []byte, dark bool) image.Image {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "report.html"), filepath.Join(dir, "shot.png")
	if err := os.WriteFile(in, page, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1040,1900", "--screenshot=" + out}
	if dark {
		args = append(args, "--force-dark-mode", "--blink-settings=preferredColorScheme=0")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, browser, append(args, "file://"+in)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// near counts img's pixels within a small distance of any of cs.
func near(img image.Image, cs ...color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for _, c := range cs {
				if diff(r>>8, c.R)+diff(g>>8, c.G)+diff(bl>>8, c.B) <= 24 {
					n++
					break
				}
			}
		}
	}
	return n
}

func diff(a uint32, b uint8) int {
	d := int(a) - int(b)
	if d < 0 {
		return -d
	}
	return d
}

// The bars' colours (page.html's --before and --after), light and dark.
var (
	beforeLight, afterLight = color.RGBA{0xd9, 0x48, 0x0f, 0xff}, color.RGBA{0x19, 0x71, 0xc2, 0xff}
	beforeDark, afterDark   = color.RGBA{0xff, 0x8f, 0x57, 0xff}, color.RGBA{0x5e, 0xa9, 0xff, 0xff}
)

// The HTML report, loaded in a real browser, draws its chart: the bars of
// before and after are on the screenshot, in light and in dark mode; a run
// with no timings draws none (so the count can fail). Under -update the
// screenshots are docs/report.png and docs/report-dark.png.
func TestHTMLInChromium(t *testing.T) {
	browser := chromium(t)
	page, err := HTML(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	light := screenshot(t, browser, page, false)
	if bg := color.RGBAModel.Convert(light.At(4, 4)).(color.RGBA); bg.R < 0xf0 {
		t.Errorf("light page background %v, want white", bg)
	}
	before, after := near(light, beforeLight), near(light, afterLight)
	t.Logf("light: %d before-bar pixels, %d after-bar pixels", before, after)
	if before < 3000 || after < 1500 {
		t.Errorf("the chart is not drawn: %d before and %d after bar pixels, want ≥ 3000 and ≥ 1500", before, after)
	}
	dark := screenshot(t, browser, page, true)
	if bg := color.RGBAModel.Convert(dark.At(4, 4)).(color.RGBA); bg.R > 0x40 {
		t.Errorf("dark page background %v, want dark", bg)
	}
	if b, a := near(dark, beforeDark), near(dark, afterDark); b < 3000 || a < 1500 {
		t.Errorf("dark mode: the chart is not drawn: %d before and %d after bar pixels", b, a)
	}

	blank := fixture(t)
	for i := range blank.Hosts {
		blank.Hosts[i].Timings = nil
	}
	page, err = HTML(blank)
	if err != nil {
		t.Fatal(err)
	}
	if n := near(screenshot(t, browser, page, false), beforeLight, afterLight); n > 200 {
		t.Errorf("a run without timings shows %d bar pixels, want none", n)
	}
	if golden.Updating() {
		saveShot(t, light, filepath.Join("..", "docs", "report.png"))
		saveShot(t, dark, filepath.Join("..", "docs", "report-dark.png"))
	}
}

func saveShot(t *testing.T, img image.Image, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The page is self-contained: nothing it loads is fetched.
func TestHTMLSelfContained(t *testing.T) {
	for _, render := range []func() ([]byte, error){
		func() ([]byte, error) { return HTML(fixture(t)) },
		func() ([]byte, error) { return ScanHTML(jsonl.Scan{Hosts: []jsonl.ScanHost{{Host: "h1"}}}) },
	} {
		page, err := render()
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"src=", "href=", "url(", "@import", "<link", "<script"} {
			if bytesContains(page, ref) {
				t.Errorf("the page refers to something outside it: %q", ref)
			}
		}
	}
}
