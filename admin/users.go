package admin

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"regbot/store"
)

// Accounts: admins add staff and admins, reset passwords, disable, enable
// and unlock accounts; everyone changes their own password. `regbot user`
// does the same from the terminal with NewStaffUser and HashPassword.

var loginPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// ErrBadAccount is an account the console refuses to create.
var ErrBadAccount = errors.New("bad account")

// NewStaffUser checks a new account's fields and hashes its password. The
// login is lowercased.
func NewStaffUser(login, displayName string, role store.Role, password string) (store.StaffUser, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	displayName = strings.TrimSpace(displayName)
	var errs []error
	if !loginPattern.MatchString(login) {
		errs = append(errs, fmt.Errorf("%w: login %q: 2–32 of a-z 0-9 . _ -, starting with a letter or digit", ErrBadAccount, login))
	}
	if displayName == "" || utf8.RuneCountInString(displayName) > 32 {
		errs = append(errs, fmt.Errorf("%w: display name: 1–32 characters", ErrBadAccount))
	}
	if !role.Valid() {
		errs = append(errs, fmt.Errorf("%w: role %q: admin or staff", ErrBadAccount, role))
	}
	if err := CheckPasswordRules(password); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return store.StaffUser{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.StaffUser{}, err
	}
	return store.StaffUser{Login: login, DisplayName: displayName, Role: role, PasswordHash: hash}, nil
}

// userData fills the accounts page.
type userData struct {
	Users   []store.StaffUser
	Problem string
	// Form keeps what was typed into the add form after a problem.
	Form struct{ Login, DisplayName, Role string }
	Min  int
}

func (c *Console) userList(w http.ResponseWriter, r *http.Request) {
	c.renderUsers(w, r, http.StatusOK, userData{})
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, status int, data userData) {
	users, err := c.deps.Store.StaffUsers(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data.Users, data.Min = users, MinPasswordRunes
	c.renderPage(w, r, status, "users", pageBody{Data: data})
}

// addUser creates an account.
func (c *Console) addUser(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	u, err := NewStaffUser(f.Get("login"), f.Get("display_name"), store.Role(f.Get("role")), f.Get("password"))
	if err == nil {
		u.PasswordChangedAt = c.now()
		u, err = c.deps.Store.CreateStaffUser(r.Context(), u)
	}
	var data userData
	data.Form.Login, data.Form.DisplayName, data.Form.Role = f.Get("login"), f.Get("display_name"), f.Get("role")
	switch {
	case errors.Is(err, store.ErrConflict):
		data.Problem = msg("users.login_taken")
	case errors.Is(err, ErrWeakPassword):
		data.Problem = msg("users.password_short", "min", strconv.Itoa(MinPasswordRunes))
	case errors.Is(err, ErrBadAccount):
		data.Problem = msg("users.invalid")
	case err != nil:
		c.fail(w, r, err)
		return
	default:
		c.audit(r, "user.add", userTarget(u.ID), u.Login+" ("+string(u.Role)+")")
		http.Redirect(w, r, "/admin/users?done=user", http.StatusSeeOther)
		return
	}
	c.renderUsers(w, r, http.StatusUnprocessableEntity, data)
}

func userTarget(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// changeUser applies one of the account actions: disable, enable, unlock,
// a new password, a new name and role.
func (c *Console) changeUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("user"), 10, 64)
	if err != nil {
		c.notFound(w, r)
		return
	}
	u, err := c.deps.Store.StaffUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c.notFound(w, r)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	who := staffOf(r)
	f := r.PostForm
	now := c.now()
	action := f.Get("action")
	if id == who.user.ID && (action == "disable" || (action == "update" && store.Role(f.Get("role")) != store.RoleAdmin)) {
		c.renderUsers(w, r, http.StatusUnprocessableEntity, userData{Problem: msg("users.not_self")})
		return
	}
	detail := ""
	switch action {
	case "disable":
		err = c.deps.Store.SetStaffDisabled(ctx, id, true, now)
	case "enable":
		err = c.deps.Store.SetStaffDisabled(ctx, id, false, now)
	case "unlock":
		err = c.deps.Store.UnlockStaffUser(ctx, id)
	case "password":
		if CheckPasswordRules(f.Get("password")) != nil {
			c.renderUsers(w, r, http.StatusUnprocessableEntity, userData{Problem: msg("users.password_short", "min", strconv.Itoa(MinPasswordRunes))})
			return
		}
		var hash string
		if hash, err = HashPassword(f.Get("password")); err == nil {
			err = c.deps.Store.SetStaffPassword(ctx, id, hash, now)
		}
	case "update":
		name, role := strings.TrimSpace(f.Get("display_name")), store.Role(f.Get("role"))
		if name == "" || utf8.RuneCountInString(name) > 32 || !role.Valid() {
			c.renderUsers(w, r, http.StatusUnprocessableEntity, userData{Problem: msg("users.invalid_update")})
			return
		}
		err = c.deps.Store.UpdateStaffUser(ctx, id, name, role)
		detail = string(role)
	default:
		c.renderError(w, r, http.StatusBadRequest, msg("error.unknown_action"))
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, "user."+action, userTarget(id), strings.TrimSpace(u.Login+" "+detail))
	http.Redirect(w, r, "/admin/users?done=user", http.StatusSeeOther)
}

// accountData fills the own-account page.
type accountData struct {
	User    store.StaffUser
	Problem string
	Min     int
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "account", accountData{User: staffOf(r).user, Min: MinPasswordRunes})
}

// changeOwnPassword sets the signed-in staff member's password after
// checking the current one. All their sessions end, this one too: they
// sign in again with the new password.
func (c *Console) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	who := staffOf(r)
	f := r.PostForm
	data := accountData{User: who.user, Min: MinPasswordRunes}
	switch {
	case !CheckPassword(who.user.PasswordHash, f.Get("current")):
		data.Problem = msg("account.wrong_password")
	case CheckPasswordRules(f.Get("password")) != nil:
		data.Problem = msg("account.password_short", "min", strconv.Itoa(MinPasswordRunes))
	case f.Get("password") != f.Get("confirm"):
		data.Problem = msg("account.mismatch")
	}
	if data.Problem != "" {
		c.renderPage(w, r, http.StatusUnprocessableEntity, "account", pageBody{Data: data})
		return
	}
	hash, err := HashPassword(f.Get("password"))
	if err == nil {
		err = c.deps.Store.SetStaffPassword(r.Context(), who.user.ID, hash, c.now())
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, "password.change", userTarget(who.user.ID), "")
	c.clearCookie(w, r, sessionCookie, "/admin")
	http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
}
