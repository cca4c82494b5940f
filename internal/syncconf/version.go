package syncconf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// CurrentSchemaVersion is the version of the Config JSON layout this
// package writes. Decoding accepts it and 0 (a layout written before
// versions were recorded, such as a form post); later versions are refused
// rather than half-read.
const CurrentSchemaVersion = 1

// Version is one saved configuration (S15): the store keeps every version
// so an admin can see who changed what. Number counts from 1 per tenant.
type Version struct {
	Number  int64     `json:"number"`
	SavedBy string    `json:"saved_by"`
	SavedAt time.Time `json:"saved_at"`
	Config  Config    `json:"config"`
}

// Canonical returns a copy of c in canonical form: the current schema
// version, empty lists rather than nil, and the default conflict rule
// written out on two-way mappings. Two configurations that mean the same
// have the same canonical form.
func (c Config) Canonical() Config {
	c.SchemaVersion = CurrentSchemaVersion
	if c.SyncObject == ObjectContact {
		// Contact is the default: a configuration saved before the choice
		// existed and one that names it are the same.
		c.SyncObject = ""
	}
	if c.Create.Owner == OwnerDefault {
		c.Create.Owner = ""
	}
	c.Social = append(make([]SocialMapping, 0, len(c.Social)), c.Social...)
	c.Fields = append(make([]FieldMapping, 0, len(c.Fields)), c.Fields...)
	c.Conditions = append(make([]Condition, 0, len(c.Conditions)), c.Conditions...)
	for i := range c.Social {
		if c.Social[i].Direction == DirBoth && c.Social[i].Conflict == "" {
			c.Social[i].Conflict = defaultConflictRule
		}
	}
	for i := range c.Fields {
		if c.Fields[i].Direction == DirBoth && c.Fields[i].Conflict == "" {
			c.Fields[i].Conflict = defaultConflictRule
		}
	}
	for i := range c.Conditions {
		if len(c.Conditions[i].Values) == 0 {
			c.Conditions[i].Values = nil
		}
	}
	return c
}

// CanonicalJSON encodes the canonical form of c. The encoding is
// deterministic (struct fields in declaration order, lists in the admin's
// order), so equal bytes mean an unchanged configuration.
func (c Config) CanonicalJSON() ([]byte, error) {
	return json.Marshal(c.Canonical())
}

// DecodeConfig decodes a Config from JSON, refusing unknown keys and
// schema versions newer than this package knows.
func DecodeConfig(data []byte) (Config, error) {
	var c Config
	if err := strictUnmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("decode sync config: %w", err)
	}
	if err := checkSchemaVersion(c.SchemaVersion); err != nil {
		return Config{}, err
	}
	c.SchemaVersion = CurrentSchemaVersion
	return c, nil
}

// MarshalJSON encodes v with its configuration in canonical form.
func (v Version) MarshalJSON() ([]byte, error) {
	type plain Version
	p := plain(v)
	p.Config = v.Config.Canonical()
	return json.Marshal(p)
}

// UnmarshalJSON decodes a version, refusing unknown keys and schema
// versions newer than this package knows.
func (v *Version) UnmarshalJSON(data []byte) error {
	type plain Version
	var p plain
	if err := strictUnmarshal(data, &p); err != nil {
		return fmt.Errorf("decode sync config version: %w", err)
	}
	if err := checkSchemaVersion(p.Config.SchemaVersion); err != nil {
		return err
	}
	p.Config.SchemaVersion = CurrentSchemaVersion
	*v = Version(p)
	return nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

func checkSchemaVersion(n int) error {
	if n < 0 || n > CurrentSchemaVersion {
		return fmt.Errorf("sync config schema version %d is not supported (this build knows up to %d)", n, CurrentSchemaVersion)
	}
	return nil
}
