package sfemu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

var (
	zhSurnames = []string{"陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪", "曾", "邱", "廖", "賴", "周"}
	zhSurnameR = []string{"chen", "lin", "huang", "chang", "lee", "wang", "wu", "liu", "tsai", "yang", "hsu", "cheng", "hsieh", "kuo", "hung", "tseng", "chiu", "liao", "lai", "chou"}
	zhGiven    = []string{"怡君", "志明", "雅婷", "家豪", "淑芬", "俊傑", "美玲", "建宏", "佳穎", "冠宇", "欣怡", "宗翰", "詩涵", "承恩", "宜蓁", "柏翰", "思妤", "彥廷", "靜怡", "子軒"}
	zhGivenR   = []string{"yijun", "zhiming", "yating", "jiahao", "shufen", "junjie", "meiling", "jianhong", "jiaying", "guanyu", "xinyi", "zonghan", "shihan", "chengen", "yizhen", "bohan", "siyu", "yanting", "jingyi", "zixuan"}
	enFirst    = []string{"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Susan", "Emily", "Daniel", "Sophia", "Kevin", "Grace", "Jason", "Olivia", "Ryan"}
	enLast     = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Lee", "Walker", "Hall", "Young", "O'Brien"}
	domains    = []string{"gmail.com", "yahoo.com.tw", "hotmail.com", "outlook.com", "example.com", "msa.hinet.net", "icloud.com", "acme.com.tw"}
	cities     = []struct{ city, country string }{{"Taipei", "TW"}, {"New Taipei", "TW"}, {"Taichung", "TW"}, {"Kaohsiung", "TW"}, {"Tainan", "TW"}, {"Hsinchu", "TW"}, {"Tokyo", "JP"}, {"Hong Kong", "HK"}, {"San Francisco", "US"}, {"Singapore", "SG"}}
	tiers      = []string{"Gold", "Silver", "Bronze"}
)

// seedPhone returns a phone number in one of the mixed formats real orgs
// hold: mostly valid international numbers, some national-only or junk.
func seedPhone(rng *rand.Rand) string {
	d := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	mobile := "9" + d(8) // Taiwan mobile without the leading 0
	switch k := rng.IntN(100); {
	case k < 25:
		return "+886 " + mobile[:3] + "-" + mobile[3:6] + "-" + mobile[6:]
	case k < 40:
		return "886" + mobile
	case k < 55:
		return "+886" + mobile
	case k < 65:
		return "0" + mobile[:3] + "-" + mobile[3:6] + "-" + mobile[6:]
	case k < 72:
		return "+1 415-555-0" + d(3)
	case k < 78:
		return "+81 90-" + d(4) + "-" + d(4)
	case k < 83:
		return "+852 " + d(4) + " " + d(4)
	case k < 88:
		return "(02) " + d(4) + "-" + d(4)
	case k < 95:
		return "0" + mobile // national format only: no country code
	default:
		return d(5) // junk
	}
}

func hexString(rng *rand.Rand, n int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hexd[rng.IntN(16)]
	}
	return string(b)
}

// SeedContacts adds n realistic Contacts owned by the admin, generated
// deterministically from seed: Chinese and English names, mixed-format
// phones (some malformed), e-mails, birthdays, LINE UIDs, member numbers,
// and a few duplicated identity values. It returns the ids created. Seeded
// rows are pre-existing data: they are not in the change history.
func (o *Org) SeedContacts(n int, seed uint64) ([]string, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative contact count")
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	now := o.srv.Now().Truncate(time.Second)
	ids := make([]string, 0, n)
	var emails, lines []string
	var shapes shapeSet     // a seed has a few thousand sets of fields
	days := map[int64]any{} // boxed dates, by day
	const batch = 20000
	// txMu keeps seeding out of an open composite transaction, whose
	// rollback truncates the table.
	o.txMu.Lock()
	defer o.txMu.Unlock()
	o.mu.Lock()
	o.tables["contact"].reserve(n)
	o.mu.Unlock()
	for done := 0; done < n; {
		o.mu.Lock()
		t := o.tables["contact"]
		obj := t.obj
		fi := func(name string) int {
			if f, ok := obj.field(name); ok {
				return f.index
			}
			return -1
		}
		idx := struct {
			first, last, email, mobile, phone, birth, line, psid, member, tier, since, city, country int
		}{fi("FirstName"), fi("LastName"), fi("Email"), fi("MobilePhone"), fi("Phone"), fi("Birthdate"), fi("LINE_UID__c"),
			fi("Facebook_PSID__c"), fi("Member_Number__c"), fi("Tier__c"), fi("Customer_Since__c"), fi("MailingCity"), fi("MailingCountry")}
		memberUnique := idx.member >= 0 && obj.fields[idx.member].Unique
		var defaults []*fieldDef
		for _, f := range obj.fields {
			if f.DefaultValue != nil {
				defaults = append(defaults, f)
			}
		}
		owner := o.intern(o.adminID)
		bouncedIdx := -1
		if f, ok := obj.field("IsEmailBounced"); ok {
			bouncedIdx = f.index
		}
		// The fields go straight into a scratch []fv, copied to an
		// exact-size slice per record: a map per record made most of a 1M
		// seed's garbage and a quarter of its CPU.
		var scratch []fv
		// Values many contacts hold (names from short lists, dates) are
		// boxed once and shared: a boxed string is a 16-byte allocation,
		// a boxed time.Time 24 bytes, about 85 bytes a contact in all.
		day := func(t time.Time) any {
			k := t.Unix() / 86400
			if v, ok := days[k]; ok {
				return v
			}
			var v any = t
			days[k] = v
			return v
		}
		set := func(i int, v any) {
			if i >= 0 {
				scratch = append(scratch, fv{uint16(i), v})
			}
		}
		for end := min(n, done+batch); done < end; done++ {
			scratch = scratch[:0]
			var firstSet bool
			var first, last, local string
			if rng.IntN(100) < 45 {
				s, g := rng.IntN(len(zhSurnames)), rng.IntN(len(zhGiven))
				first, last = zhGiven[g], zhSurnames[s]
				local = zhGivenR[g] + "." + zhSurnameR[s]
			} else {
				first, last = enFirst[rng.IntN(len(enFirst))], enLast[rng.IntN(len(enLast))]
				local = strings.ToLower(first + "." + strings.ReplaceAll(last, "'", ""))
			}
			if rng.IntN(100) < 95 {
				set(idx.first, o.intern(first))
				firstSet = idx.first >= 0
			}
			set(idx.last, o.intern(last))
			if rng.IntN(100) < 85 {
				var email string
				if len(emails) > 0 && rng.IntN(100) < 3 {
					email = emails[rng.IntN(len(emails))] // a shared family or duplicate address
				} else {
					email = fmt.Sprintf("%s%d@%s", local, rng.IntN(10000), domains[rng.IntN(len(domains))])
					if rng.IntN(100) < 5 {
						email = strings.ToUpper(email[:1]) + email[1:]
					}
					emails = append(emails, email)
					if len(emails) > 1000 {
						emails = emails[len(emails)-1000:]
					}
				}
				set(idx.email, email)
			}
			if rng.IntN(100) < 80 {
				set(idx.mobile, seedPhone(rng))
			}
			if rng.IntN(100) < 25 {
				set(idx.phone, seedPhone(rng))
			}
			if rng.IntN(100) < 60 {
				set(idx.birth, day(time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)))
			}
			if rng.IntN(100) < 50 {
				var uid string
				if len(lines) > 0 && rng.IntN(100) < 2 {
					uid = lines[rng.IntN(len(lines))]
				} else {
					uid = "U" + hexString(rng, 32)
					lines = append(lines, uid)
					if len(lines) > 1000 {
						lines = lines[len(lines)-1000:]
					}
				}
				set(idx.line, uid)
			}
			if rng.IntN(100) < 20 {
				set(idx.psid, fmt.Sprintf("%d", 1000000000000000+rng.Int64N(8999999999999999)))
			}
			if rng.IntN(100) < 70 && idx.member >= 0 {
				m := fmt.Sprintf("M%08d", t.seq+1)
				if _, taken := t.uniq[idx.member][strings.ToLower(m)]; !memberUnique || !taken {
					set(idx.member, m)
				}
			}
			if rng.IntN(100) < 40 && idx.tier >= 0 {
				set(idx.tier, o.intern(tiers[rng.IntN(len(tiers))]))
			}
			if rng.IntN(100) < 50 {
				set(idx.since, day(time.Date(2015+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)))
			}
			if rng.IntN(100) < 50 {
				c := cities[rng.IntN(len(cities))]
				set(idx.city, o.intern(c.city))
				set(idx.country, o.intern(c.country))
			}
			id := o.nextID(t)
			created := now.Add(-time.Duration(1+rng.IntN(2*365*24*60)) * time.Minute)
			modified := created
			if rng.IntN(100) < 40 {
				modified = created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)))) + 0).Truncate(time.Second)
			}
			var cBox, mBox any = created, modified
			if modified.Equal(created) {
				mBox = cBox
			}
			name := o.intern(last)
			if firstSet {
				name = o.intern(strings.TrimSpace(first + " " + last))
			}
			set(obj.idIdx, id)
			set(obj.nameIdx, name)
			set(obj.ownerIdx, owner)
			set(obj.createdIdx, cBox)
			set(obj.createdByIdx, owner)
			set(obj.modifiedIdx, mBox)
			set(obj.modifiedByIdx, owner)
			set(obj.modstampIdx, mBox)
			set(obj.isDeletedIdx, false)
			set(bouncedIdx, false)
			for _, f := range defaults { // IsPersonAccount = false in an org with Person Accounts, new checkboxes
				if !slices.ContainsFunc(scratch, func(p fv) bool { return int(p.idx) == f.index }) {
					set(f.index, f.DefaultValue)
				}
			}
			r := recordOf(id, scratch, &shapes)
			p := t.add(r)
			for i, ix := range t.uniq {
				if v := r.Value(i); v != nil {
					ix[uniqKey(obj.fields[i], v)] = p
				}
			}
			ids = append(ids, id)
		}
		o.mu.Unlock()
	}
	return ids, nil
}

// seedPerson is one generated person, shared by the Lead and person
// account generators.
type seedPerson struct {
	first, last, email, mobile, phone, line, psid, tier, city, country string
	birth, since                                                       time.Time
	member                                                             bool
}

type personGen struct {
	rng           *rand.Rand
	emails, lines []string
}

func (g *personGen) next() seedPerson {
	rng := g.rng
	var p seedPerson
	var local string
	if rng.IntN(100) < 45 {
		s, gi := rng.IntN(len(zhSurnames)), rng.IntN(len(zhGiven))
		p.first, p.last = zhGiven[gi], zhSurnames[s]
		local = zhGivenR[gi] + "." + zhSurnameR[s]
	} else {
		p.first, p.last = enFirst[rng.IntN(len(enFirst))], enLast[rng.IntN(len(enLast))]
		local = strings.ToLower(p.first + "." + strings.ReplaceAll(p.last, "'", ""))
	}
	if rng.IntN(100) >= 95 {
		p.first = ""
	}
	if rng.IntN(100) < 85 {
		if len(g.emails) > 0 && rng.IntN(100) < 3 {
			p.email = g.emails[rng.IntN(len(g.emails))]
		} else {
			p.email = fmt.Sprintf("%s%d@%s", local, rng.IntN(10000), domains[rng.IntN(len(domains))])
			g.emails = append(g.emails, p.email)
			if len(g.emails) > 1000 {
				g.emails = g.emails[len(g.emails)-1000:]
			}
		}
	}
	if rng.IntN(100) < 80 {
		p.mobile = seedPhone(rng)
	}
	if rng.IntN(100) < 25 {
		p.phone = seedPhone(rng)
	}
	if rng.IntN(100) < 60 {
		p.birth = time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	if rng.IntN(100) < 50 {
		if len(g.lines) > 0 && rng.IntN(100) < 2 {
			p.line = g.lines[rng.IntN(len(g.lines))]
		} else {
			p.line = "U" + hexString(rng, 32)
			g.lines = append(g.lines, p.line)
			if len(g.lines) > 1000 {
				g.lines = g.lines[len(g.lines)-1000:]
			}
		}
	}
	if rng.IntN(100) < 20 {
		p.psid = fmt.Sprintf("%d", 1000000000000000+rng.Int64N(8999999999999999))
	}
	p.member = rng.IntN(100) < 70
	if rng.IntN(100) < 40 {
		p.tier = tiers[rng.IntN(len(tiers))]
	}
	if rng.IntN(100) < 50 {
		p.since = time.Date(2015+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	if rng.IntN(100) < 50 {
		c := cities[rng.IntN(len(cities))]
		p.city, p.country = c.city, c.country
	}
	return p
}

var seedCompanies = []string{"台灣好物有限公司", "大同電商", "Acme Trading", "Formosa Tea Co.", "Harbor Logistics", "小日子選物", "Sunrise Apparel", "鼎泰貿易"}

// SeedLeads adds n realistic Leads generated from seed (names, phones,
// e-mails, LINE UIDs, member numbers, companies, sources, statuses), owned
// by the org's active users in turn. Like SeedContacts, seeded rows are
// pre-existing data: not in the change history, no change events.
func (o *Org) SeedLeads(n int, seed uint64) ([]string, error) {
	return o.seedPeople(ObjLead, n, seed)
}

// SeedPersonAccounts adds n realistic person accounts (each with its
// Contact), in an org with Person Accounts.
func (o *Org) SeedPersonAccounts(n int, seed uint64) ([]string, error) {
	if !o.PersonAccountsEnabled() {
		return nil, fmt.Errorf("this org does not have Person Accounts")
	}
	return o.seedPeople(ObjAccount, n, seed)
}

func (o *Org) seedPeople(object string, n int, seed uint64) ([]string, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative count")
	}
	g := &personGen{rng: rand.New(rand.NewPCG(seed, 0x1ead))}
	rng := g.rng
	now := o.srv.Now().Truncate(time.Second)
	ids := make([]string, 0, n)
	const batch = 20000
	o.txMu.Lock()
	defer o.txMu.Unlock()
	for done := 0; done < n; {
		o.mu.Lock()
		var owners []any
		for _, u := range o.users {
			if u.Active {
				owners = append(owners, o.intern(u.ID))
			}
		}
		t := o.tables[strings.ToLower(object)]
		ct := o.tables["contact"]
		person := object == ObjAccount
		prefix, custom := "", "__c"
		if person {
			prefix, custom = "Person", "__pc"
		}
		rt, _ := func() (RecordType, bool) {
			for _, x := range o.recordTypesLocked(ObjAccount) {
				if x.Person && x.Active {
					return x, true
				}
			}
			return RecordType{}, false
		}()
		memberName := "Member_Number" + custom
		mf, hasMember := t.obj.field(memberName)
		for end := min(n, done+batch); done < end; done++ {
			p := g.next()
			vals := map[string]any{}
			put := func(name string, v any) {
				if s, ok := v.(string); ok && s == "" {
					return
				}
				if tm, ok := v.(time.Time); ok && tm.IsZero() {
					return
				}
				vals[name] = v
			}
			put("FirstName", p.first)
			put("LastName", p.last)
			put(prefix+"Email", p.email)
			put(prefix+"MobilePhone", p.mobile)
			put("Phone", p.phone)
			put("LINE_UID"+custom, p.line)
			put("Facebook_PSID"+custom, p.psid)
			if p.tier != "" {
				put("Tier"+custom, o.intern(p.tier))
			}
			put("Customer_Since"+custom, p.since)
			if person {
				put("PersonBirthdate", p.birth)
				put("PersonMailingCity", p.city)
				put("PersonMailingCountry", p.country)
				put("PersonLeadSource", o.intern(leadSources[rng.IntN(len(leadSources))]))
				put("RecordTypeId", o.intern(rt.ID))
				put("IsPersonAccount", true)
			} else {
				if rng.IntN(100) < 60 {
					put("Company", seedCompanies[rng.IntN(len(seedCompanies))])
				} else if !o.personAccounts {
					put("Company", p.last+" (individual)")
				}
				put("City", p.city)
				put("Country", p.country)
				put("LeadSource", o.intern(leadSources[rng.IntN(len(leadSources))]))
				put("Status", o.intern(leadStatuses[[]int{0, 0, 0, 1, 1, 3}[rng.IntN(6)]]))
				put("IsConverted", false)
				put("IsUnreadByOwner", rng.IntN(100) < 30)
			}
			if p.member && hasMember {
				m := fmt.Sprintf("L%08d", t.seq+1)
				if person {
					m = fmt.Sprintf("P%08d", t.seq+1)
				}
				if _, taken := t.uniq[mf.index][strings.ToLower(m)]; !mf.Unique || !taken {
					put(memberName, m)
				}
			}
			owner := owners[rng.IntN(len(owners))]
			created := now.Add(-time.Duration(1+rng.IntN(2*365*24*60)) * time.Minute)
			modified := created
			if rng.IntN(100) < 40 {
				modified = created.Add(time.Duration(rng.Int64N(int64(now.Sub(created))))).Truncate(time.Second)
			}
			stamp := func(obj *objectDef, ch map[int]any, id string) {
				var cBox, mBox any = created, modified
				if modified.Equal(created) {
					mBox = cBox
				}
				ch[obj.idIdx] = id
				ch[obj.ownerIdx] = owner
				ch[obj.createdIdx], ch[obj.createdByIdx] = cBox, owner
				ch[obj.modifiedIdx], ch[obj.modifiedByIdx], ch[obj.modstampIdx] = mBox, owner, mBox
				ch[obj.isDeletedIdx] = false
				name := strings.TrimSpace(p.first + " " + p.last)
				if obj.nameIdx >= 0 {
					ch[obj.nameIdx] = name
				}
				for _, f := range obj.fields {
					if f.DefaultValue != nil && ch[f.index] == nil {
						ch[f.index] = f.DefaultValue
					}
				}
			}
			add := func(t *table, ch map[int]any) {
				r := newRecord(ch[t.obj.idIdx].(string), ch)
				pos := t.add(r)
				for i, ix := range t.uniq {
					if v := r.Value(i); v != nil {
						ix[uniqKey(t.obj.fields[i], v)] = pos
					}
				}
			}
			ch := map[int]any{}
			for name, v := range vals {
				if f, ok := t.obj.field(name); ok {
					ch[f.index] = v
				}
			}
			id := o.nextID(t)
			if person {
				cch := o.personContactChanges(t.obj, ch)
				cid := o.nextID(ct)
				set := func(n string, v any) { f, _ := ct.obj.field(n); cch[f.index] = v }
				set("AccountId", id)
				set("IsPersonAccount", true)
				set("IsEmailBounced", false)
				stamp(ct.obj, cch, cid)
				add(ct, cch)
				pf, _ := t.obj.field("PersonContactId")
				ch[pf.index] = cid
			}
			stamp(t.obj, ch, id)
			add(t, ch)
			ids = append(ids, id)
		}
		o.mu.Unlock()
	}
	return ids, nil
}
