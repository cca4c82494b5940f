package store

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idMu sync.Mutex
var lastMS int64
var lastSeq uint16

// NewID returns a prefixed, time-ordered, unique ID such as
// "c_01jd7k2x9w3r8m5q2n4t6v8y0z": 48 bits of milliseconds, a 16-bit
// sequence within the millisecond, and 64 random bits, in Crockford base32.
// IDs made later sort later, which cursor pagination relies on.
func NewID(prefix string) string {
	idMu.Lock()
	ms := time.Now().UnixMilli()
	if ms <= lastMS {
		ms = lastMS
		lastSeq++
		if lastSeq == 0 {
			ms++
		}
	} else {
		lastSeq = 0
	}
	lastMS = ms
	seq := lastSeq
	idMu.Unlock()

	var b [16]byte
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	binary.BigEndian.PutUint16(b[6:8], seq)
	rand.Read(b[8:])
	// 128 bits → 26 base32 characters, most significant first.
	out := make([]byte, 0, len(prefix)+26)
	out = append(out, prefix...)
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hi >> (shift - 64)
		case shift > 59:
			v = lo>>shift | hi<<(64-shift)
		default:
			v = lo >> shift
		}
		out = append(out, crockford[v&31])
	}
	return string(out)
}
