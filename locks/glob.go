package locks

// glob is a compiled key pattern in Redis's MATCH syntax. Every element but
// * matches exactly one byte, which lets match run in O(len(pattern) ×
// len(key)) with one backtracking point, whatever the pattern: an operator's
// pattern cannot make it take exponential time.
type glob []globElem

type globElem struct {
	star   bool
	any    bool      // ?
	lit    byte      // a literal byte, when set is nil and neither flag is
	set    [][2]byte // byte ranges of a [...] class
	negate bool      // [^...]
}

// compileGlob parses pattern; "" means every key. A [ with no closing ] runs
// to the end of the pattern, as in Redis.
func compileGlob(pattern string) glob {
	if pattern == "" {
		return glob{{star: true}}
	}
	var g glob
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*':
			if len(g) == 0 || !g[len(g)-1].star {
				g = append(g, globElem{star: true})
			}
		case c == '?':
			g = append(g, globElem{any: true})
		case c == '\\' && i+1 < len(pattern):
			i++
			g = append(g, globElem{lit: pattern[i]})
		case c == '[':
			e := globElem{set: [][2]byte{}}
			i++
			if i < len(pattern) && pattern[i] == '^' {
				e.negate = true
				i++
			}
			for ; i < len(pattern) && pattern[i] != ']'; i++ {
				switch {
				case pattern[i] == '\\' && i+1 < len(pattern):
					i++
					e.set = append(e.set, [2]byte{pattern[i], pattern[i]})
				case i+2 < len(pattern) && pattern[i+1] == '-' && pattern[i+2] != ']':
					lo, hi := pattern[i], pattern[i+2]
					e.set = append(e.set, [2]byte{min(lo, hi), max(lo, hi)})
					i += 2
				default:
					e.set = append(e.set, [2]byte{pattern[i], pattern[i]})
				}
			}
			g = append(g, e)
		default:
			g = append(g, globElem{lit: c})
		}
	}
	return g
}

func (e globElem) matches(b byte) bool {
	switch {
	case e.any:
		return true
	case e.set != nil:
		in := false
		for _, r := range e.set {
			if b >= r[0] && b <= r[1] {
				in = true
				break
			}
		}
		return in != e.negate
	default:
		return b == e.lit
	}
}

// match reports whether the whole of s matches g.
func (g glob) match(s string) bool {
	p, i := 0, 0
	star, from := -1, 0 // the last * seen, and where its match started
	for i < len(s) {
		switch {
		case p < len(g) && g[p].star:
			star, from = p, i
			p++
		case p < len(g) && g[p].matches(s[i]):
			p++
			i++
		case star >= 0:
			// Let the last * swallow one more byte and retry from there.
			from++
			p, i = star+1, from
		default:
			return false
		}
	}
	for p < len(g) && g[p].star {
		p++
	}
	return p == len(g)
}
