package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	stdio "io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

func init() {
	commands["user"] = command{"manage staff accounts: `user create-owner --email ADDRESS` makes an owner", runUser}
}

// runUser is `kassa user create-owner --email ADDRESS [--name NAME]
// [--password-stdin]`: it creates an owner directly in the database. The
// password is asked for twice on a terminal (not echoed), or read from the
// first line of standard input with --password-stdin (scripts). It works
// when owners exist too: the way back in for a shop that lost its owner.
func runUser(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("user", io, "Usage: kassa user create-owner --email ADDRESS [--name NAME] [--password-stdin] [flags]\n\n"+
		"Creates a shop owner, also when owners exist (the way back in for a shop that lost its owner's\n"+
		"password). The password is prompted for twice, or read from the first line of standard input.\n", offlineSettings...)
	email := fs.String("email", "", "the owner's email address (required)")
	name := fs.String("name", "", "the owner's name")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of prompting")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "create-owner" {
		fs.Usage()
		return fmt.Errorf("%w: kassa user create-owner --email ADDRESS", errUsage)
	}
	if *email == "" {
		fs.Usage()
		return fmt.Errorf("%w: --email is required", errUsage)
	}
	password, err := readNewPassword(io, *fromStdin)
	if err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	a, err := New(ctx, cfg, Options{LogOutput: io.Stderr, Offline: true})
	if err != nil {
		return err
	}
	defer a.Close(context.Background()) //nolint:errcheck // nothing to flush
	m, err := CreateOwner(ctx, a.Accounts.Service, *email, *name, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "Owner %s created (%s). Sign in with staffLogin.\n", m.Email, m.ID)
	return nil
}

// CreateOwner creates an owner as the command line's system subject and
// turns validation problems into one readable error.
func CreateOwner(ctx context.Context, svc *account.Service, email, name, password string) (*account.StaffMember, error) {
	ctx = authz.WithSubject(ctx, authz.SystemSubject("cli"))
	m, err := svc.CreateOwner(ctx, account.NewStaff{Email: email, Name: name, Password: password})
	if err != nil {
		if all := errs.All(err); len(all) > 0 {
			msgs := make([]string, len(all))
			for i, e := range all {
				msgs[i] = e.Error()
			}
			return nil, fmt.Errorf("%w: %s", errUsage, strings.Join(msgs, "; "))
		}
		return nil, fmt.Errorf("create owner: %w", err)
	}
	return m, nil
}

// readNewPassword reads a password from standard input (first line), or
// prompts twice without echo when standard input is a terminal.
func readNewPassword(io IO, fromStdin bool) (string, error) {
	f, isFile := io.Stdin.(*os.File)
	if !fromStdin && isFile && term.IsTerminal(int(f.Fd())) {
		read := func(prompt string) (string, error) {
			fmt.Fprint(io.Stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(io.Stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			return string(b), nil
		}
		pw, err := read("Password: ")
		if err != nil {
			return "", err
		}
		again, err := read("Password again: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", fmt.Errorf("%w: the passwords differ", errUsage)
		}
		return pw, nil
	}
	line, err := bufio.NewReader(io.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, errEOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%w: no password on standard input (pipe it in, or run in a terminal to be prompted)", errUsage)
	}
	return pw, nil
}

var errEOF = stdio.EOF
