package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/sfsync/sfsync/internal/config"
	"github.com/sfsync/sfsync/internal/store"
	"github.com/sfsync/sfsync/internal/tenant"
)

// adminCommand runs "tenant …", "admin …" and "apikey …".
func adminCommand(ctx context.Context, group string, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s: missing subcommand; run sfsync help", group)
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet(group+" "+sub, flag.ContinueOnError)
	var (
		name        = fs.String("name", "", "name")
		tenantID    = fs.String("tenant", "", "tenant ID")
		language    = fs.String("language", "zh-TW", "default UI language: zh-TW or en")
		region      = fs.String("phone-region", "", "default phone region for numbers without a country code (empty: refuse them)")
		timeZone    = fs.String("time-zone", "", "IANA time zone the admin UI shows times in (empty: Asia/Taipei for zh-TW, else UTC)")
		addon       = fs.String("salesforce-addon", "", "true/false: the Salesforce member data integration add-on")
		socialCDP   = fs.String("social-cdp", "", "true/false: the Social CDP plan")
		email       = fs.String("email", "", "admin e-mail (login)")
		password    = fs.String("password", "", "admin password (or SFSYNC_ADMIN_PASSWORD)")
		keyID       = fs.String("id", "", "API key ID")
		share       = fs.Float64("share", 0, "share of the org's daily API allocation sfsync may use, more than 0 and at most 1")
		databaseURL = fs.String("database-url", "", "as for serve [SFSYNC_DATABASE_URL]")
		dataDir     = fs.String("data-dir", "", "as for serve [SFSYNC_DATA_DIR]")
	)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	var cfgArgs []string
	if *databaseURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", *databaseURL)
	}
	if *dataDir != "" {
		cfgArgs = append(cfgArgs, "--data-dir", *dataDir)
	}
	cfg, _, err := config.Parse(group, cfgArgs, getenv)
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	parseBool := func(flagName, v string) (bool, error) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("--%s %q: must be true or false", flagName, v)
		}
		return b, nil
	}
	need := func(flagName, v string) error {
		if v == "" {
			return fmt.Errorf("%s %s: --%s is required", group, sub, flagName)
		}
		return nil
	}

	// planFlags applies --salesforce-addon and --social-cdp when given.
	planFlags := func(p *tenant.Plan) (err error) {
		if *addon != "" {
			if p.SalesforceAddon, err = parseBool("salesforce-addon", *addon); err != nil {
				return err
			}
		}
		if *socialCDP != "" {
			p.SocialCDP, err = parseBool("social-cdp", *socialCDP)
		}
		return err
	}
	switch group + " " + sub {
	case "tenant create":
		if err := need("name", *name); err != nil {
			return err
		}
		t := tenant.Tenant{Name: *name, Language: *language, PhoneRegion: *region, TimeZone: *timeZone}
		if err := planFlags(&t.Plan); err != nil {
			return err
		}
		t, err := s.CreateTenant(ctx, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s created (%s)\n", t.ID, t.Name)
		return nil
	case "tenant list":
		list, err := s.ListTenants(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSALESFORCE_ADDON\tSOCIAL_CDP\tLANGUAGE\tPHONE_REGION\tTIME_ZONE")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\t%s\t%s\n", t.ID, t.Name, t.Plan.SalesforceAddon, t.Plan.SocialCDP, t.Language, t.PhoneRegion, t.Location())
		}
		return tw.Flush()
	case "tenant set-plan":
		if err := need("tenant", *tenantID); err != nil {
			return err
		}
		t, err := s.GetTenant(ctx, *tenantID)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", *tenantID, err)
		}
		if err := planFlags(&t.Plan); err != nil {
			return err
		}
		if *timeZone != "" {
			t.TimeZone = *timeZone
		}
		if err := s.UpdateTenant(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s plan: salesforce_addon=%v social_cdp=%v\n", t.ID, t.Plan.SalesforceAddon, t.Plan.SocialCDP)
		return nil
	case "tenant set-budget":
		if err := need("tenant", *tenantID); err != nil {
			return err
		}
		if !(*share > 0 && *share <= 1) {
			return fmt.Errorf("tenant set-budget: --share %v: must be more than 0 and at most 1 (0.5 is the default)", *share)
		}
		if err := s.SetConnectionBudget(ctx, *tenantID, *share); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("tenant %s: Salesforce is not connected", *tenantID)
			}
			return err
		}
		fmt.Fprintf(stdout, "tenant %s API budget: %.0f%% of the org's daily allocation\n", *tenantID, *share*100)
		return nil
	case "tenant drift-check":
		if err := need("tenant", *tenantID); err != nil {
			return err
		}
		if _, err := s.GetTenant(ctx, *tenantID); err != nil {
			return fmt.Errorf("tenant %s: %w", *tenantID, err)
		}
		st, err := s.GetSyncState(ctx, *tenantID)
		if err != nil {
			return err
		}
		if !st.PullEnabled || st.InitialRunID == 0 {
			return fmt.Errorf("tenant %s: no drift check before the first sync from Salesforce has run", *tenantID)
		}
		// The workers' scheduler (every 30 s) starts it, one at a time with
		// the tenant's other pulls; the daily schedule goes on from it.
		if err := s.SetNextDriftCheck(ctx, *tenantID, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s: drift check due now; a running worker starts it within a minute (see the sync log)\n", *tenantID)
		return nil
	case "admin create":
		if err := need("tenant", *tenantID); err != nil {
			return err
		}
		if err := need("email", *email); err != nil {
			return err
		}
		pw := *password
		if pw == "" {
			pw = getenv("SFSYNC_ADMIN_PASSWORD")
		}
		if pw == "" {
			return fmt.Errorf("admin create: give --password or set SFSYNC_ADMIN_PASSWORD")
		}
		if _, err := s.GetTenant(ctx, *tenantID); err != nil {
			return fmt.Errorf("tenant %s: %w", *tenantID, err)
		}
		a, err := s.CreateAdmin(ctx, *tenantID, *email, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "admin %s (%s) created for tenant %s\n", a.ID, a.Email, a.TenantID)
		return nil
	case "apikey create":
		if err := need("tenant", *tenantID); err != nil {
			return err
		}
		if _, err := s.GetTenant(ctx, *tenantID); err != nil {
			return fmt.Errorf("tenant %s: %w", *tenantID, err)
		}
		k, secret, err := s.CreateAPIKey(ctx, *tenantID, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "API key %s created for tenant %s. It is shown once; store it now:\n", k.ID, k.TenantID)
		fmt.Fprintln(stdout, secret)
		return nil
	case "apikey revoke":
		if err := need("id", *keyID); err != nil {
			return err
		}
		if err := s.RevokeAPIKey(ctx, *keyID); err != nil {
			return fmt.Errorf("API key %s: %w", *keyID, err)
		}
		fmt.Fprintf(stdout, "API key %s revoked\n", *keyID)
		return nil
	}
	return fmt.Errorf("unknown command %q; run sfsync help", group+" "+sub)
}
