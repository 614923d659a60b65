// Command shot renders a terminal screen captured with its colors
// (`tmux capture-pane -p -e`: text and SGR escape codes) to a PNG, with the
// DejaVu Sans Mono font of Debian's fonts-dejavu-core. Block elements and
// box-drawing lines are drawn as shapes so bars and rules join up.
//
//	go run . -in running.ans -out ../tui-running.png [-cols 120 -rows 40]
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

type cell struct {
	r                     rune
	fg, bg                color.RGBA
	bold, faint, rev, und bool
	fgSet, bgSet          bool
}

var (
	defFG = color.RGBA{0xc9, 0xd1, 0xd9, 0xff}
	defBG = color.RGBA{0x0d, 0x11, 0x17, 0xff}
)

// ansi16 is the palette of colors 0-15 (GitHub dark flavored).
var ansi16 = []color.RGBA{
	{0x48, 0x4f, 0x58, 255}, {0xff, 0x7b, 0x72, 255}, {0x3f, 0xb9, 0x50, 255}, {0xd2, 0x99, 0x22, 255},
	{0x58, 0xa6, 0xff, 255}, {0xbc, 0x8c, 0xff, 255}, {0x39, 0xc5, 0xcf, 255}, {0xb1, 0xba, 0xc4, 255},
	{0x6e, 0x76, 0x81, 255}, {0xff, 0xa1, 0x98, 255}, {0x56, 0xd3, 0x64, 255}, {0xe3, 0xb3, 0x41, 255},
	{0x79, 0xc0, 0xff, 255}, {0xd2, 0xa8, 0xff, 255}, {0x56, 0xd4, 0xdd, 255}, {0xff, 0xff, 0xff, 255},
}

func color256(n int) color.RGBA {
	switch {
	case n < 16:
		return ansi16[n]
	case n < 232:
		n -= 16
		lv := []uint8{0, 95, 135, 175, 215, 255}
		return color.RGBA{lv[n/36], lv[(n/6)%6], lv[n%6], 255}
	}
	g := uint8(8 + 10*(n-232))
	return color.RGBA{g, g, g, 255}
}

// parse turns the capture into rows of cells.
func parse(s string, cols, rows int) [][]cell {
	grid := make([][]cell, rows)
	blank := cell{r: ' ', fg: defFG, bg: defBG}
	for i := range grid {
		grid[i] = make([]cell, cols)
		for j := range grid[i] {
			grid[i][j] = blank
		}
	}
	cur := blank
	x, y := 0, 0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == 0x1b && i+1 < len(rs) && rs[i+1] == '[':
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'm' {
				sgr(&cur, string(rs[i+2:j]))
			}
			i = j
		case r == 0x1b:
			i++ // a lone escape: skip its next byte
		case r == '\n':
			x, y = 0, y+1
		case r == '\r':
			x = 0
		case r < 0x20:
		default:
			if y < rows && x < cols {
				c := cur
				c.r = r
				grid[y][x] = c
			}
			x++
		}
	}
	return grid
}

func sgr(c *cell, params string) {
	if params == "" {
		params = "0"
	}
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	num := func(k int) int {
		if k >= len(ps) {
			return 0
		}
		n, _ := strconv.Atoi(ps[k])
		return n
	}
	for k := 0; k < len(ps); k++ {
		n := num(k)
		switch {
		case n == 0:
			*c = cell{r: ' ', fg: defFG, bg: defBG}
		case n == 1:
			c.bold = true
		case n == 2:
			c.faint = true
		case n == 4:
			c.und = true
		case n == 7:
			c.rev = true
		case n == 22:
			c.bold, c.faint = false, false
		case n == 24:
			c.und = false
		case n == 27:
			c.rev = false
		case n >= 30 && n <= 37:
			c.fg, c.fgSet = ansi16[n-30], true
		case n >= 90 && n <= 97:
			c.fg, c.fgSet = ansi16[n-90+8], true
		case n == 39:
			c.fg, c.fgSet = defFG, false
		case n >= 40 && n <= 47:
			c.bg, c.bgSet = ansi16[n-40], true
		case n >= 100 && n <= 107:
			c.bg, c.bgSet = ansi16[n-100+8], true
		case n == 49:
			c.bg, c.bgSet = defBG, false
		case n == 38 || n == 48:
			var col color.RGBA
			switch num(k + 1) {
			case 5:
				col = color256(num(k + 2))
				k += 2
			case 2:
				col = color.RGBA{uint8(num(k + 2)), uint8(num(k + 3)), uint8(num(k + 4)), 255}
				k += 4
			default:
				continue
			}
			if n == 38 {
				c.fg, c.fgSet = col, true
			} else {
				c.bg, c.bgSet = col, true
			}
		}
	}
}

type faces struct {
	regular, bold []font.Face
	fonts         []*sfnt.Font
}

func loadFaces(size float64) faces {
	var f faces
	load := func(name string) (*sfnt.Font, font.Face) {
		b, err := os.ReadFile("/usr/share/fonts/truetype/dejavu/" + name)
		if err != nil {
			log.Fatalf("%v (apt-get install fonts-dejavu-core)", err)
		}
		ft, err := opentype.Parse(b)
		if err != nil {
			log.Fatal(err)
		}
		face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			log.Fatal(err)
		}
		return ft, face
	}
	for _, pair := range [][2]string{{"DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"}, {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf"}} {
		ft, reg := load(pair[0])
		_, bold := load(pair[1])
		f.fonts = append(f.fonts, ft)
		f.regular = append(f.regular, reg)
		f.bold = append(f.bold, bold)
	}
	return f
}

// face picks the first font that has r.
func (f faces) face(r rune, bold bool) font.Face {
	var buf sfnt.Buffer
	for i, ft := range f.fonts {
		if gi, err := ft.GlyphIndex(&buf, r); err == nil && gi != 0 {
			if bold {
				return f.bold[i]
			}
			return f.regular[i]
		}
	}
	return f.regular[0]
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

func main() {
	in := flag.String("in", "", "captured screen (tmux capture-pane -p -e)")
	out := flag.String("out", "", "PNG to write")
	cols := flag.Int("cols", 120, "terminal columns")
	rows := flag.Int("rows", 40, "terminal rows")
	size := flag.Float64("size", 20, "font size in pixels")
	flag.Parse()
	if *in == "" || *out == "" {
		log.Fatal("usage: shot -in SCREEN.ans -out SCREEN.png")
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	cv := newCanvas(loadFaces(*size), *cols, *rows)
	for y, line := range parse(string(b), *cols, *rows) {
		for x, c := range line {
			cv.cell(x, y, c)
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, cv.img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %dx%d\n", *out, cv.img.Bounds().Dx(), cv.img.Bounds().Dy())
}

// canvas is the picture of a terminal: a grid of cells cw x ch pixels.
type canvas struct {
	img                 *image.RGBA
	fs                  faces
	cw, ch, ascent, pad int
}

func newCanvas(fs faces, cols, rows int) *canvas {
	m := fs.regular[0].Metrics()
	adv, _ := fs.regular[0].GlyphAdvance('M')
	cv := &canvas{fs: fs, cw: adv.Round(), ch: (m.Height.Ceil() * 115) / 100, pad: 16}
	cv.ascent = m.Ascent.Ceil() + (cv.ch-m.Height.Ceil())/2
	cv.img = image.NewRGBA(image.Rect(0, 0, cols*cv.cw+2*cv.pad, rows*cv.ch+2*cv.pad))
	draw.Draw(cv.img, cv.img.Bounds(), &image.Uniform{defBG}, image.Point{}, draw.Src)
	return cv
}

func (cv *canvas) rect(x0, y0, x1, y1 int, c color.RGBA) {
	draw.Draw(cv.img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Over)
}

// cell draws one character cell: block and box-drawing characters as
// shapes (so they join across cells whatever the font), the rest as glyphs.
func (cv *canvas) cell(x, y int, c cell) {
	fg, bg := c.fg, c.bg
	if c.rev {
		fg, bg = bg, fg
	}
	if c.faint {
		fg = mix(fg, bg, 0.45)
	}
	x0, y0 := cv.pad+x*cv.cw, cv.pad+y*cv.ch
	x1, y1 := x0+cv.cw, y0+cv.ch
	cv.rect(x0, y0, x1, y1, bg)
	if c.und {
		cv.rect(x0, y1-2, x1, y1-1, fg)
	}
	mx, my := x0+cv.cw/2, y0+cv.ch/2
	switch r := c.r; {
	case r == '█':
		cv.rect(x0, y0, x1, y1, fg)
	case r >= '▉' && r <= '▏': // left 7/8 .. 1/8
		w := cv.cw * int('▐'-r) / 8
		cv.rect(x0, y0, x0+max(w, 1), y1, fg)
	case r == '▌':
		cv.rect(x0, y0, mx, y1, fg)
	case r == '▐':
		cv.rect(mx, y0, x1, y1, fg)
	case r == '▀':
		cv.rect(x0, y0, x1, my, fg)
	case r == '▄':
		cv.rect(x0, my, x1, y1, fg)
	case r == '░' || r == '▒' || r == '▓':
		cv.rect(x0, y0, x1, y1, mix(bg, fg, map[rune]float64{'░': 0.25, '▒': 0.5, '▓': 0.75}[r]))
	case strings.ContainsRune("─━│┃┌┐└┘╭╮╰╯├┤┬┴┼", r):
		cv.boxLine(r, x0, y0, x1, y1, fg)
	case r == ' ':
	default:
		face := cv.fs.face(r, c.bold)
		d := font.Drawer{Dst: cv.img, Src: &image.Uniform{fg}, Face: face}
		ga, _ := face.GlyphAdvance(r)
		// Centre glyphs of other widths (fallback font) in the cell.
		off := (fixed.I(cv.cw) - ga) / 2
		d.Dot = fixed.Point26_6{X: fixed.I(x0) + off, Y: fixed.I(y0 + cv.ascent)}
		d.DrawString(string(r))
	}
}

// boxLine draws a box-drawing character as the arms it has.
func (cv *canvas) boxLine(r rune, x0, y0, x1, y1 int, fg color.RGBA) {
	mx, my := (x0+x1)/2, (y0+y1)/2
	t := 1
	if r == '━' || r == '┃' {
		t = 2
	}
	if strings.ContainsRune("─━┐┘╮╯┤┬┴┼", r) {
		cv.rect(x0, my, mx+t, my+t, fg)
	}
	if strings.ContainsRune("─━┌└╭╰├┬┴┼", r) {
		cv.rect(mx, my, x1, my+t, fg)
	}
	if strings.ContainsRune("│┃└┘╰╯├┤┴┼", r) {
		cv.rect(mx, y0, mx+t, my+t, fg)
	}
	if strings.ContainsRune("│┃┌┐╭╮├┤┬┼", r) {
		cv.rect(mx, my, mx+t, y1, fg)
	}
}
