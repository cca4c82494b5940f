package contact

import "unicode/utf8"

// plainInput decodes data into an Input the way DecodeInput's decoder
// would, for the documents most clients send: one object whose members
// are among member_id, name, phone, email, birthday, gender, tags and
// social_identities, each at most once and spelt so, with null or plain
// values (strings without escapes or control characters, valid UTF-8;
// tags an array of such strings; social identities as
// plainScanner.socialList takes them). Anything else (custom fields, numbers, other spellings,
// which encoding/json matches in any case, a member twice, which it
// decodes twice, content after the object) reports false and is left to
// the decoder, which also says what is wrong. Decoding each item of a bulk
// request through encoding/json's reflection was a sixth of serve's CPU
// during a bulk import (issue 14).
func plainInput(data []byte) (Input, bool) {
	var in Input
	p := plainScanner{b: data}
	p.ws()
	if !p.byte('{') {
		return Input{}, false
	}
	p.ws()
	if p.byte('}') {
		p.ws()
		return in, p.i == len(p.b)
	}
	var seen [8]bool
	for {
		key, ok := p.str()
		if !ok {
			return Input{}, false
		}
		p.ws()
		if !p.byte(':') {
			return Input{}, false
		}
		p.ws()
		var k int
		var dst *Opt[string]
		switch key {
		case "member_id":
			k, dst = 0, &in.MemberID
		case "name":
			k, dst = 1, &in.Name
		case "phone":
			k, dst = 2, &in.Phone
		case "email":
			k, dst = 3, &in.Email
		case "birthday":
			k, dst = 4, &in.Birthday
		case "gender":
			k, dst = 5, &in.Gender
		case "tags":
			k = 6
		case "social_identities":
			k = 7
		default:
			return Input{}, false
		}
		if seen[k] {
			return Input{}, false
		}
		seen[k] = true
		null := p.null()
		switch {
		case dst != nil && null:
			*dst = Opt[string]{Set: true, Null: true}
		case dst != nil:
			v, ok := p.str()
			if !ok {
				return Input{}, false
			}
			*dst = Some(v)
		case k == 6 && null:
			in.Tags = Opt[[]string]{Set: true, Null: true}
		case k == 6:
			tags, ok := p.strings()
			if !ok {
				return Input{}, false
			}
			in.Tags = Some(tags)
		case null:
			in.Social = Opt[[]SocialIdentity]{Set: true, Null: true}
		default:
			list, ok := p.socialList()
			if !ok {
				return Input{}, false
			}
			in.Social = Some(list)
		}
		p.ws()
		if p.byte(',') {
			p.ws()
			continue
		}
		if !p.byte('}') {
			return Input{}, false
		}
		p.ws()
		return in, p.i == len(p.b)
	}
}

// plainScanner reads plainInput's subset of JSON from b at i.
type plainScanner struct {
	b []byte
	i int
}

func (p *plainScanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c when it comes next.
func (p *plainScanner) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// null consumes the literal null when it comes next.
func (p *plainScanner) null() bool {
	if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// str consumes a string without escapes or control characters whose
// bytes are valid UTF-8: encoding/json decodes it to those bytes.
func (p *plainScanner) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start, ascii := p.i, true
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return "", false // the decoder would replace the bytes with U+FFFD
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// strings consumes an array of str strings; [] is an empty, non-nil slice
// as the decoder makes it.
func (p *plainScanner) strings() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []string{}
	p.ws()
	if p.byte(']') {
		return out, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		p.ws()
		if p.byte(',') {
			p.ws()
			continue
		}
		return out, p.byte(']')
	}
}

// socialList consumes an array of social identities: objects whose
// members are channel_type, channel_id and user_id, each at most once,
// spelt so, with str values; [] is an empty, non-nil slice as the
// decoder makes it.
func (p *plainScanner) socialList() ([]SocialIdentity, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []SocialIdentity{}
	p.ws()
	if p.byte(']') {
		return out, true
	}
	for {
		if !p.byte('{') {
			return nil, false
		}
		var si SocialIdentity
		var seen [3]bool
		p.ws()
		if !p.byte('}') {
			for {
				key, ok := p.str()
				if !ok {
					return nil, false
				}
				p.ws()
				if !p.byte(':') {
					return nil, false
				}
				p.ws()
				val, ok := p.str()
				if !ok {
					return nil, false
				}
				var k int
				switch key {
				case "channel_type":
					k, si.ChannelType = 0, val
				case "channel_id":
					k, si.ChannelID = 1, val
				case "user_id":
					k, si.UserID = 2, val
				default:
					return nil, false
				}
				if seen[k] {
					return nil, false
				}
				seen[k] = true
				p.ws()
				if p.byte(',') {
					p.ws()
					continue
				}
				if !p.byte('}') {
					return nil, false
				}
				break
			}
		}
		out = append(out, si)
		p.ws()
		if p.byte(',') {
			p.ws()
			continue
		}
		return out, p.byte(']')
	}
}
