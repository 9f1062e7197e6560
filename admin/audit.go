package admin

import (
	"context"
	"net/http"
	"strconv"

	"regbot/store"
)

// Audit records an action of the request's signed-in staff member in the
// audit log: action names it ("broadcast.send"), target what it was done
// to ("broadcast:3"), detail says more (never a password, ID number or
// mobile). Pages mounted with Staff or Admin call it for every action.
func (c *Console) Audit(r *http.Request, action, target, detail string) {
	c.audit(r, action, target, detail)
}

// audit records a staff action of the request's signed-in staff member.
// A failure to write it is logged; the action has happened either way.
func (c *Console) audit(r *http.Request, action, target, detail string) {
	who := staffOf(r)
	if who == nil {
		c.auditAs(r.Context(), 0, "", c.clientAddress(r), action, target, detail)
		return
	}
	c.auditAs(r.Context(), who.user.ID, who.user.Login, who.address, action, target, detail)
}

func (c *Console) auditAs(ctx context.Context, userID int64, login, address, action, target, detail string) {
	err := c.deps.Store.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{
		At: c.now(), UserID: userID, Login: login, Action: action, Target: target, Detail: detail, Address: address,
	})
	if err != nil {
		c.log.Error("audit log", "action", action, "err", err)
	}
}

// auditActions name the actions in the audit log (zh-CN for staff).
var auditActions = map[string]string{
	"broadcast.create": "新建群发",
	"broadcast.send":   "发送群发",
	"broadcast.pause":  "暂停群发",
	"broadcast.resume": "继续群发",
	"broadcast.cancel": "取消群发",
	"broadcast.report": "下载群发报告",
	"segment.save":     "保存分组",
	"segment.delete":   "删除分组",
	"signin":           "登录",
	"signin.failed":    "登录失败",
	"signin.locked":    "账号被锁定",
	"signin.throttled": "登录过于频繁",
	"signout":          "退出",
	"denied":           "无权限访问",
	"csrf.refused":     "表单校验失败",
	"password.change":  "修改本人密码",
	"user.add":         "添加账号",
	"user.password":    "重置密码",
	"user.disable":     "停用账号",
	"user.enable":      "启用账号",
	"user.unlock":      "解锁账号",
	"user.update":      "修改账号",
	"ticket.claim":     "认领工单",
	"ticket.reply":     "回复工单",
	"ticket.close":     "关闭工单",
	"candidate.view":   "查看考生",
	"candidate.export": "导出考生",
	"document.view":    "查看材料",
	"document.denied":  "材料链接无效",
	"document.accept":  "材料通过",
	"document.reject":  "材料退回",
	"package.download": "下载材料包",
	"status.set":       "设置状态",
}

// auditData fills the audit page.
type auditData struct {
	Entries []store.AuditEntry
	Action  string
	// Older pages back (0: no older entries).
	Older   int64
	Actions map[string]string
}

// auditPage lists the audit log, newest first, 100 a page (admins).
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action"), Limit: 100}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	f.UserID, _ = strconv.ParseInt(q.Get("user"), 10, 64)
	entries, err := c.deps.Store.AuditLog(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := auditData{Entries: entries, Action: f.Action, Actions: auditActions}
	if len(entries) == f.Limit {
		data.Older = entries[len(entries)-1].ID
	}
	c.render(w, r, "audit", "审计日志", data)
}
