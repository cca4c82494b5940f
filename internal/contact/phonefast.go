package contact

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// A fast path for the phone numbers most imports carry: the digits of a
// number in international form ("+886912345678") or in the national form
// of the default region ("0912345678" with TW). It follows
// phonenumbers.Parse, IsValidNumber and Format(E164) step by step for
// those inputs alone, with the library's own metadata and the same
// patterns compiled once (the library concatenates and looks up each
// pattern on every call, and tries an extension pattern that cannot match
// digits). Wherever the library would take a branch this code does not
// follow (an international dialling prefix, the default region's country
// code written without "+", Italian leading zeros, a parse error), fastPhone reports that it
// is not certain and the caller asks the library. TestFastPhoneMatchesLibrary
// compares both over generated numbers of every region.

// fastPhone returns the E.164 form of digits ("+"-prefixed when plus) as
// phonenumbers.Parse(…, region) then IsValidNumber and Format would, with
// valid false where the library finds the number invalid. certain is false
// when this path does not know; the result is then meaningless.
func fastPhone(digits string, plus bool, region string) (e164 string, valid, certain bool) {
	if len(digits) < 2 || len(digits) > phonenumbers.MAX_INPUT_STRING_LENGTH-1 {
		return "", false, false
	}
	var cc *ccRules
	var meta *regionRules
	national := digits
	if plus {
		// maybeExtractCountryCode: after "+", the first known code of
		// one to three digits; none, or a leading 0, is an error (and a
		// retry without the "+").
		if digits[0] == '0' {
			return "", false, false
		}
		for i := 1; i <= 3 && i <= len(digits); i++ {
			n, _ := strconv.Atoi(digits[:i])
			if cc = rulesForCode(n); cc != nil {
				national = digits[i:]
				break
			}
		}
		if cc == nil {
			return "", false, false
		}
		meta = cc.main
	} else {
		meta = rulesForRegion(region)
		if meta == nil {
			return "", false, false
		}
		// The region's international dialling prefix at the start, or the
		// region's own country code, sends the library down branches not
		// followed here.
		if loc := meta.idd.FindStringIndex(digits); loc != nil && loc[0] == 0 {
			return "", false, false
		}
		cc = rulesForCode(int(meta.countryCode))
		if cc == nil || strings.HasPrefix(digits, cc.code) {
			return "", false, false
		}
	}
	if meta == nil || len(national) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return "", false, false
	}
	// maybeStripNationalPrefixAndCarrierCode (a national prefix removed,
	// or rewritten by the region's transform rule, unless that turns a
	// number the general pattern takes into one it does not), kept only
	// when what remains is of a possible length.
	if meta.nationalPrefix != nil {
		if groups := meta.nationalPrefix.FindStringSubmatchIndex(national); groups != nil {
			var stripped string
			if last := len(groups)/2 - 1; meta.transformRule == "" || groups[last*2] < 0 {
				stripped = national[groups[1]:]
			} else {
				stripped = meta.nationalPrefix.ReplaceAllString(national, meta.transformRule)
			}
			if !meta.general.re.MatchString(national) || meta.general.re.MatchString(stripped) {
				switch meta.testLength(len(stripped)) {
				case lengthUnknown:
					return "", false, false
				case lengthTooShort, lengthLocalOnly, lengthInvalid:
				default:
					national = stripped
				}
			}
		}
	}
	if len(national) < phonenumbers.MIN_LENGTH_FOR_NSN || len(national) > phonenumbers.MAX_LENGTH_FOR_NSN || national[0] == '0' {
		return "", false, false
	}
	return "+" + cc.code + national, cc.valid(national), true
}

// ccRules are the rules for one country calling code.
type ccRules struct {
	code    string
	main    *regionRules   // the metadata Parse uses for a number with this code
	regions []*regionRules // every region sharing the code, in the library's order
}

// valid is IsValidNumber for a number of this code with national
// significant number nsn (no leading zero): the region is the first whose
// leading digits match or, lacking those, whose patterns take the number
// (GetRegionCodeForNumber); the number is valid when that region's
// patterns take it.
func (c *ccRules) valid(nsn string) bool {
	if len(c.regions) == 1 {
		return c.regions[0].anyType(nsn)
	}
	for _, r := range c.regions {
		if r.leadingDigits != nil {
			if r.leadingDigits.MatchString(nsn) {
				return r.anyType(nsn)
			}
			continue
		}
		if r.anyType(nsn) {
			return true
		}
	}
	return false
}

// regionRules are one region's metadata with its patterns compiled.
type regionRules struct {
	countryCode    int32
	idd            *regexp.Regexp // unanchored, as the library uses it
	nationalPrefix *regexp.Regexp // "^(?:…)", nil when the region has none
	transformRule  string
	leadingDigits  *regexp.Regexp // "^(?:…)", nil when none
	general        descRule
	types          []descRule // premium rate … voicemail, then fixed line
	mobile         descRule
	sameMobileFix  bool
	possible       []int32 // the general description's possible lengths
	localOnly      []int32
}

// descRule is a PhoneNumberDesc: possible lengths (none: any) and the
// pattern a whole national number must match.
type descRule struct {
	lengths []int32
	re      *regexp.Regexp
}

func (d descRule) matches(nsn string) bool {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int(l) == len(nsn) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return d.re.MatchString(nsn)
}

// anyType is getNumberTypeHelper(nsn) != UNKNOWN.
func (r *regionRules) anyType(nsn string) bool {
	if !r.general.matches(nsn) {
		return false
	}
	for _, d := range r.types {
		if d.matches(nsn) {
			return true
		}
	}
	return !r.sameMobileFix && r.mobile.matches(nsn)
}

type lengthResult int

const (
	lengthPossible lengthResult = iota
	lengthTooShort
	lengthTooLong
	lengthLocalOnly
	lengthInvalid
	lengthUnknown // no possible lengths at all: the library would not cope either
)

// testLength is testNumberLength(number, metadata, UNKNOWN) by length.
func (r *regionRules) testLength(n int) lengthResult {
	if len(r.possible) == 0 {
		return lengthUnknown
	}
	if r.possible[0] == -1 {
		return lengthInvalid
	}
	for _, l := range r.localOnly {
		if int(l) == n {
			return lengthLocalOnly
		}
	}
	switch {
	case int(r.possible[0]) == n:
		return lengthPossible
	case int(r.possible[0]) > n:
		return lengthTooShort
	case int(r.possible[len(r.possible)-1]) < n:
		return lengthTooLong
	}
	for _, l := range r.possible[1:] {
		if int(l) == n {
			return lengthPossible
		}
	}
	return lengthInvalid
}

// The rules are built from the library's embedded metadata once, and a
// region's patterns compiled on its first use.
var (
	phoneMetaOnce sync.Once
	phoneMeta     struct {
		byRegion  map[string]*phonenumbers.PhoneMetadata
		nonGeo    map[int32]*phonenumbers.PhoneMetadata
		supported map[int]bool
	}
	ccCache     sync.Map // int → *ccRules (nil value: not a code)
	regionCache sync.Map // string → *regionRules (nil value: unknown)
)

func loadPhoneMeta() {
	phoneMetaOnce.Do(func() {
		phoneMeta.byRegion = map[string]*phonenumbers.PhoneMetadata{}
		phoneMeta.nonGeo = map[int32]*phonenumbers.PhoneMetadata{}
		phoneMeta.supported = phonenumbers.GetSupportedCallingCodes()
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return // every lookup then finds nothing and the library decides
		}
		for _, m := range coll.GetMetadata() {
			if m.GetId() == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
				phoneMeta.nonGeo[m.GetCountryCode()] = m
			} else {
				phoneMeta.byRegion[m.GetId()] = m
			}
		}
	})
}

func rulesForCode(code int) *ccRules {
	if v, ok := ccCache.Load(code); ok {
		return v.(*ccRules)
	}
	loadPhoneMeta()
	var c *ccRules
	if phoneMeta.supported[code] {
		c = &ccRules{code: strconv.Itoa(code)}
		for _, id := range phonenumbers.GetRegionCodesForCountryCode(code) {
			var r *regionRules
			if id == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
				if m := phoneMeta.nonGeo[int32(code)]; m != nil {
					r = compileRegion(m)
				}
			} else {
				r = rulesForRegion(id)
			}
			if r == nil {
				c = nil
				break
			}
			c.regions = append(c.regions, r)
		}
		if c != nil && len(c.regions) > 0 {
			c.main = c.regions[0]
		} else {
			c = nil
		}
	}
	v, _ := ccCache.LoadOrStore(code, c)
	return v.(*ccRules)
}

func rulesForRegion(id string) *regionRules {
	if v, ok := regionCache.Load(id); ok {
		return v.(*regionRules)
	}
	loadPhoneMeta()
	var r *regionRules
	if m := phoneMeta.byRegion[id]; m != nil {
		r = compileRegion(m)
	}
	v, _ := regionCache.LoadOrStore(id, r)
	return v.(*regionRules)
}

func compileRegion(m *phonenumbers.PhoneMetadata) *regionRules {
	desc := func(d *phonenumbers.PhoneNumberDesc) descRule {
		return descRule{lengths: d.GetPossibleLength(), re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
	}
	r := &regionRules{
		countryCode:   m.GetCountryCode(),
		idd:           regexp.MustCompile(m.GetInternationalPrefix()),
		transformRule: m.GetNationalPrefixTransformRule(),
		general:       desc(m.GetGeneralDesc()),
		mobile:        desc(m.GetMobile()),
		sameMobileFix: m.GetSameMobileAndFixedLinePattern(),
		possible:      m.GetGeneralDesc().GetPossibleLength(),
		localOnly:     m.GetGeneralDesc().GetPossibleLengthLocalOnly(),
	}
	if m.GetInternationalPrefix() == "" {
		r.idd = regexp.MustCompile("NonMatch") // the library's stand-in
	}
	if p := m.GetNationalPrefixForParsing(); p != "" {
		r.nationalPrefix = regexp.MustCompile("^(?:" + p + ")")
	}
	if p := m.GetLeadingDigits(); p != "" {
		r.leadingDigits = regexp.MustCompile("^(?:" + p + ")")
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
		m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine()} {
		r.types = append(r.types, desc(d))
	}
	return r
}
