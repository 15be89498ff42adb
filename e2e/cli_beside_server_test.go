package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCommandsBesideARunningServer: an owner created with the command line
// while the shop is serving can work at once (the role reaches the server
// through the outbox and the bus), the setup token the server printed no
// longer makes a second owner, and the server's embedded NATS store is
// left alone by the command (it restarts cleanly).
func TestCommandsBesideARunningServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, dir)
	setup := regexp.MustCompile(`ktok_[A-Za-z0-9_-]+`).FindString(in.logs.String())
	if setup == "" {
		t.Fatalf("no setup token printed:\n%s", in.logs.String())
	}
	// The person starting the shop gets the pages' addresses and the
	// admin's setup screen as a link.
	for _, want := range []string{in.base + "/admin/setup?token=" + setup, "admin       " + in.base + "/admin/", "storefront  " + in.base + "/"} {
		if !strings.Contains(in.logs.String(), want) {
			t.Errorf("the start-up output lacks %q:\n%s", want, in.logs.String())
		}
	}

	const email, password = "owner@example.com", "correct horse battery staple"
	create := exec.Command(kassaBin, "user", "create-owner", "--email", email, "--password-stdin", "--data-dir", dir)
	create.Stdin = strings.NewReader(password + "\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("create-owner beside the server: %v\n%s", err, out)
	}
	kassa(t, dir, "seed", "demo")

	var second struct {
		StaffSetupOwner struct{ UserErrors []struct{ Code string } }
	}
	in.graphql(`mutation($t: String!) { staffSetupOwner(input: {token: $t, email: "intruder@example.com", password: "another long passphrase"}) { userErrors { code } } }`,
		map[string]any{"t": setup}, &second)
	if len(second.StaffSetupOwner.UserErrors) == 0 {
		t.Fatal("the printed setup token made a second owner after create-owner")
	}

	token := in.staffToken(email, password)
	deadline := time.Now().Add(15 * time.Second)
	for {
		body := in.graphqlAs(token, `mutation { productCreate(input: {title: "Owner's First Tea", status: DRAFT}) { product { id } userErrors { code } } }`)
		if strings.Contains(body, `"product":{"id"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new owner still may not create products after 15s:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	in.stop()

	again := start(t, dir)
	again.stop()
	for _, bad := range []string{"corrupt", "outdated"} {
		if strings.Contains(again.logs.String(), bad) {
			t.Fatalf("NATS store damaged by the command line run:\n%s", again.logs.String())
		}
	}
}
