package syncconf

import (
	"strings"
	"unicode"
)

// NameRule says how the platform's single name is split into Salesforce's
// FirstName and LastName, and how they are joined back.
type NameRule string

// Name rules.
const (
	// NameChinese: family name first, no space (王小明 → LastName 王,
	// FirstName 小明), compound family names kept whole (歐陽娜娜 →
	// 歐陽 + 娜娜). A name without Han characters follows NameWestern.
	NameChinese NameRule = "chinese"
	// NameWestern: given names first, the family name last, separated by
	// spaces (Mary Ann Smith → FirstName "Mary Ann", LastName "Smith").
	NameWestern NameRule = "western"
)

func (r NameRule) valid() bool { return r == NameChinese || r == NameWestern }

// Salesforce's name fields that a name rule fills.
const (
	FirstNameField = "FirstName"
	LastNameField  = "LastName"
)

// compoundSurnames are two-character family names, in traditional and
// simplified spelling, that a Chinese name keeps whole.
var compoundSurnames = []string{
	"歐陽", "司馬", "上官", "諸葛", "東方", "皇甫", "尉遲", "公孫", "慕容", "長孫", "宇文", "司徒",
	"夏侯", "軒轅", "令狐", "鍾離", "端木", "獨孤", "南宮", "西門", "澹臺", "呼延", "太史", "申屠",
	"張簡", "范姜", "張廖", "簡鄭", "周黃", "江謝",
	"欧阳", "司马", "诸葛", "东方", "尉迟", "公孙", "长孙", "轩辕", "钟离", "独孤", "南宫", "澹台",
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// SplitName splits a platform name into FirstName and LastName by rule.
// Spaces are trimmed and collapsed; a blank name gives two blanks. A name
// of one part is all LastName, which Salesforce requires.
func SplitName(rule NameRule, name string) (first, last string) {
	parts := strings.Fields(name)
	if len(parts) == 0 {
		return "", ""
	}
	if rule == NameChinese && hasHan(name) {
		// Family name first: spaces between Han characters carry nothing.
		s := strings.Join(parts, "")
		if len(parts) > 1 {
			// "王 小明": the first part is the family name as written.
			return strings.Join(parts[1:], ""), parts[0]
		}
		runes := []rune(s)
		if len(runes) <= 1 {
			return "", s
		}
		for _, c := range compoundSurnames {
			if strings.HasPrefix(s, c) && len(runes) > 2 {
				return string(runes[2:]), c
			}
		}
		if len(runes) == 2 && isCompoundSurname(s) {
			return "", s
		}
		return string(runes[1:]), string(runes[:1])
	}
	if len(parts) == 1 {
		return "", parts[0]
	}
	return strings.Join(parts[:len(parts)-1], " "), parts[len(parts)-1]
}

func isCompoundSurname(s string) bool {
	for _, c := range compoundSurnames {
		if s == c {
			return true
		}
	}
	return false
}

// JoinName joins Salesforce's FirstName and LastName into the platform's
// single name by rule: family name first with no space for Chinese names
// (either part in Han characters), given names first with a space
// otherwise.
func JoinName(rule NameRule, first, last string) string {
	first, last = strings.Join(strings.Fields(first), " "), strings.Join(strings.Fields(last), " ")
	switch {
	case first == "":
		return last
	case last == "":
		return first
	case rule == NameChinese && (hasHan(first) || hasHan(last)):
		return last + first
	}
	return first + " " + last
}
