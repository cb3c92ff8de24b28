"""The console's words in Chinese and English.

The language is the ``lang`` query parameter when given (and then remembered in a
cookie), else the remembered one, else the browser's first choice.
"""

from __future__ import annotations

from fastapi import Request

from bot.service.tickets import STATUS_LABELS
from bot.settings import Settings

__all__ = ["LANGUAGES", "LANG_COOKIE", "company_name", "language_of", "quick_replies", "translate"]

LANGUAGES = ("en", "zh")
LANG_COOKIE = "console_lang"

WORDS: dict[str, dict[str, str]] = {
    "console": {"en": "{company} service console", "zh": "{company}客服工作台"},
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_out": {"en": "Sign out", "zh": "退出"},
    "username": {"en": "Username", "zh": "用户名"},
    "password": {"en": "Password", "zh": "密码"},
    "bad_login": {"en": "Wrong username or password.", "zh": "用户名或密码错误。"},
    "too_many_sign_ins": {
        "en": "Too many failed sign-ins. Try again in {minutes} minutes.",
        "zh": "登录失败次数过多，请 {minutes} 分钟后再试。",
    },
    "queue": {"en": "Queue", "zh": "排队"},
    "tickets": {"en": "Tickets", "zh": "工单"},
    "gaps": {"en": "Knowledge gaps", "zh": "知识库缺口"},
    "analytics": {"en": "Analytics", "zh": "数据分析"},
    "status": {"en": "System status", "zh": "系统状态"},
    "waiting": {"en": "Waiting", "zh": "等待中"},
    "active": {"en": "Active", "zh": "接待中"},
    "closed": {"en": "Closed", "zh": "已结束"},
    "expired": {"en": "Expired", "zh": "已超时"},
    "customer": {"en": "Customer", "zh": "客户"},
    "tier": {"en": "Tier", "zh": "等级"},
    "reason": {"en": "Reason", "zh": "原因"},
    "summary": {"en": "Summary", "zh": "摘要"},
    "waited": {"en": "Waiting for", "zh": "已等待"},
    "agent": {"en": "Agent", "zh": "客服"},
    "open": {"en": "Open", "zh": "打开"},
    "accept": {"en": "Accept", "zh": "接入"},
    "close": {"en": "Close", "zh": "结束会话"},
    "convert": {"en": "Convert to ticket", "zh": "转为工单"},
    "send": {"en": "Send", "zh": "发送"},
    "reply_placeholder": {"en": "Write to the customer…", "zh": "输入回复……"},
    "quick_replies": {"en": "Quick replies", "zh": "快捷回复"},
    "empty_queue": {"en": "Nobody is waiting.", "zh": "目前没有客户排队。"},
    "transcript": {"en": "Conversation", "zh": "对话记录"},
    "bot_tried": {"en": "What the bot tried", "zh": "机器人已尝试"},
    "ticket_draft": {"en": "Ticket draft", "zh": "工单草稿"},
    "profile": {"en": "Profile", "zh": "客户资料"},
    "orders": {"en": "Orders", "zh": "订单"},
    "delivered_on": {"en": "delivered", "zh": "签收于"},
    "due_by": {"en": "due by", "zh": "承诺送达"},
    "open_tickets": {"en": "Open tickets", "zh": "处理中的工单"},
    "rfm": {"en": "Last 12 months", "zh": "近 12 个月"},
    "next_tier": {"en": "To the next tier", "zh": "距下一等级"},
    "failures": {"en": "Bot failures", "zh": "机器人未解决次数"},
    "kb_searches": {"en": "Knowledge-base searches", "zh": "知识库检索"},
    "guest": {"en": "Guest", "zh": "访客"},
    "number": {"en": "Number", "zh": "编号"},
    "category": {"en": "Category", "zh": "类别"},
    "state": {"en": "Status", "zh": "状态"},
    "due": {"en": "SLA due", "zh": "SLA 截止"},
    "overdue": {"en": "overdue", "zh": "已超时"},
    "left": {"en": "left", "zh": "剩余"},
    "note": {"en": "Note", "zh": "备注"},
    "customer_added": {"en": "Customer added", "zh": "客户补充"},
    "update": {"en": "Update", "zh": "更新"},
    "filter": {"en": "Filter", "zh": "筛选"},
    "all": {"en": "All", "zh": "全部"},
    "description": {"en": "Description", "zh": "描述"},
    "question": {"en": "Question", "zh": "问题"},
    "count": {"en": "Times asked", "zh": "次数"},
    "last_seen": {"en": "Last asked", "zh": "最近一次"},
    "examples": {"en": "Also asked as", "zh": "其他问法"},
    "add_to_kb": {"en": "Add to the knowledge base", "zh": "加入知识库"},
    "entry_id": {"en": "Entry id", "zh": "条目 ID"},
    "answer": {"en": "Answer", "zh": "答案"},
    "added": {"en": "Added {entry} and rebuilt the index ({build}).", "zh": "已添加 {entry} 并重建索引（{build}）。"},
    "no_gaps": {"en": "No unanswered questions.", "zh": "没有未解答的问题。"},
    "since": {"en": "From", "zh": "开始日期"},
    "until": {"en": "Until", "zh": "结束日期"},
    "show": {"en": "Show", "zh": "显示"},
    "conversations": {"en": "Conversations", "zh": "会话数"},
    "deflection": {"en": "Self-service rate", "zh": "自助解决率"},
    "escalation": {"en": "Escalation rate", "zh": "转人工率"},
    "median_wait": {"en": "Median wait", "zh": "等待时间中位数"},
    "satisfaction": {"en": "Satisfaction", "zh": "满意度"},
    "tickets_opened": {"en": "Tickets opened", "zh": "新建工单"},
    "tickets_in_sla": {"en": "Closed within SLA", "zh": "SLA 内关闭"},
    "top_questions": {"en": "Top questions", "zh": "热门问题"},
    "top_gaps": {"en": "Top gaps", "zh": "主要知识缺口"},
    "per_day": {"en": "Conversations per day", "zh": "每日会话数"},
    "total": {"en": "Total", "zh": "合计"},
    "day": {"en": "Day", "zh": "日期"},
    "new_escalation": {"en": "New customer waiting", "zh": "有新客户排队"},
    "not_found": {"en": "Not found", "zh": "未找到"},
    "joined": {"en": "An agent joined", "zh": "客服已接入"},
    "self_served": {"en": "Self-served", "zh": "自助解决"},
    "shop": {"en": "{company}", "zh": "{company}"},
    "shop_tagline": {"en": "Everyday things, delivered. (A demo site.)", "zh": "好物到家。（演示网站）"},
    "signed_in_as": {"en": "Signed in as", "zh": "当前身份"},
    "visitor": {"en": "a guest (not signed in)", "zh": "访客（未登录）"},
    "switch": {"en": "Switch", "zh": "切换"},
    "chat_title": {"en": "{company} service", "zh": "{company}客服"},
    "chat_subtitle": {"en": "We answer in English and Chinese", "zh": "中英文服务"},
    "chat_hint": {"en": "Type a message…", "zh": "请输入消息……"},
    "ticketed_outcome": {"en": "Ticket", "zh": "工单"},
    "escalated": {"en": "Escalated", "zh": "转人工"},
    "abandoned": {"en": "Abandoned", "zh": "未解决离开"},
    "ticketed": {"en": "Turned into a ticket", "zh": "已转为工单"},
    "orders_count": {"en": "{n} orders", "zh": "{n} 单"},
    "days_ago": {"en": "last {n} days ago", "zh": "最近一单 {n} 天前"},
}

QUICK_REPLIES = {
    "en": [
        "Hello, this is {agent} from {company}. I'm looking into it now.",
        "Could you tell me the order number, please?",
        "I've arranged it for you; you'll get a text message shortly.",
        "Is there anything else I can help you with?",
    ],
    "zh": [
        "您好，我是{company}客服{agent}，正在为您查看。",
        "请提供一下订单号，谢谢。",
        "已经为您处理好了，稍后会收到短信通知。",
        "请问还有其他可以帮您的吗？",
    ],
}

# Ticket statuses as the bot words them, capitalised for the console's tables.
STATUSES = {
    status: {lang: text.capitalize() for lang, text in labels.items()} for status, labels in STATUS_LABELS.items()
}


def language_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGUAGES:
        return asked
    accepted = request.headers.get("accept-language", "").lower()
    return "zh" if accepted.startswith("zh") else "en"


def translate(lang: str, key: str, **values: object) -> str:
    """``key``'s words in ``lang``, with ``values`` (the company's name among them) filled in."""
    words = WORDS.get(key) or STATUSES.get(key)
    if words is None:
        return key
    text = words.get(lang) or words["en"]
    return text.format(**values) if values else text


def quick_replies(lang: str, agent: str, company: str) -> list[str]:
    """What an agent often writes, signed with their name, ready to send or edit."""
    return [reply.format(agent=agent, company=company) for reply in QUICK_REPLIES.get(lang, QUICK_REPLIES["en"])]


def company_name(settings: Settings, lang: str) -> str:
    return settings.company_name_zh if lang == "zh" else settings.company_name
