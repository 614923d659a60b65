package remote

import "strings"

// Quote returns s as one POSIX shell word that the shell reads back as
// exactly s: wrapped in single quotes, inside which nothing is special, with
// each embedded quote written as close-quote, backslash-quote, open-quote.
// Every string is quoted, even plain ones, because a bare word can still
// change meaning in command position (if, !, A=b). The empty string becomes a
// pair of single quotes.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgs quotes each element of argv and joins them with spaces, giving a
// command line that a POSIX shell splits back into exactly argv.
func QuoteArgs(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(a))
	}
	return b.String()
}
