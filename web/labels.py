"""Chinese labels for the codes the services answer with: display text only, no rule."""

from __future__ import annotations

from shared.terms import METRIC_NAMES, UNIT_CLASS_NAMES

ROLE = {
    "operator": "话务/派单/回访员",
    "unit": "承办单位",
    "supervisor": "督办/考评",
    "leader": "领导（只读）",
    "gateway": "渠道网关",
    "service": "平台服务",
    "citizen": "市民",
    "admin": "管理员",
}
KIND = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
URGENCY = {"emergency": "马上办（紧急）", "ordinary": "快速办（一般）", "complex": "研究办（复杂）"}
CHANNEL = {
    "phone": "12345热线",
    "web": "网站",
    "app": "App",
    "wechat": "微信小程序",
    "weibo": "微博",
    "message_board": "领导留言板",
    "mayor_mailbox": "市长信箱",
    "sms": "短信",
    "opinion": "政务舆情",
    "grid": "网格员",
    "open311": "Open311",
}
ASSIGNMENT_STATUS = {
    "dispatched": "待签收",
    "signed": "已签收",
    "contacted": "已联系",
    "replied": "已办结反馈",
    "return_requested": "退单申请中",
    "returned": "已退单",
    "withdrawn": "已撤回",
    "forwarded": "已下派",
    "timed_out": "协办超时",
}
ASSIGNMENT_ROLE = {"lead": "主办", "assist": "协办"}
ACTION = {
    "sign": "签收",
    "contact": "首次联系",
    "reply": "办结反馈",
    "note": "进展备注",
    "extension": "申请延期",
    "return": "退单",
    "forward": "下派",
}
REPLY_OUTCOME = {"solved": "已解决", "partly_solved": "部分解决", "unsolvable": "无法解决"}
RETURN_REASON = {
    "not_our_duty": "非本单位职责",
    "wrong_area": "不属本辖区",
    "wrong_level": "层级不符",
    "insufficient_information": "信息不全",
    "other": "其他",
}
RETURN_STATUS = {
    "pending": "待审核",
    "approved": "已同意",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
}
SOLVED = {"solved": "解决", "partly_solved": "部分解决", "unsolved": "未解决"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
CALLBACK_STATUS = {
    "due": "待回访",
    "review": "待审核",
    "completed": "已完成",
    "unreachable": "无法联系",
    "excluded": "不回访",
}
ATTEMPT_OUTCOME = {
    "no_answer": "无人接听",
    "busy": "占线",
    "powered_off": "关机",
    "wrong_number": "号码错误",
}
DEADLINE = {"overdue": "已超期", "due_soon": "临期", "": ""}
STAGE = {"sign": "签收", "response": "首次联系", "completion": "办结"}


def label(table: dict[str, str], code: object) -> str:
    """The label, or the code itself for a value added since (never a blank cell)."""
    return table.get(str(code), str(code)) if code is not None else ""


# A service's problem as a page titles it (the services' own titles are English).
PROBLEM_TITLE = {
    400: "请求有误",
    401: "需要重新登录",
    403: "无权进行此操作",
    404: "没有找到",
    409: "当前状态不允许此操作",
    413: "内容过大",
    415: "格式不支持",
    422: "输入有误",
    429: "操作过于频繁，请稍后再试",
    500: "系统出错",
    502: "服务暂不可用",
    503: "服务暂不可用",
    504: "服务响应超时",
}
METRIC = METRIC_NAMES
UNIT_CLASS = UNIT_CLASS_NAMES
SUPERVISION_LEVEL = {
    "platform": "平台督办",
    "phone": "电话督办",
    "on_site": "现场督办",
    "joint": "联合督办",
}
SUPERVISION_REASON = {
    "overdue": "超期",
    "redispatched": "多次派单",
    "cluster": "群体诉求",
    "unit_complaints": "单位被投诉",
}
AREA_LEVEL = {"city": "市", "district": "区", "street": "街道", "community": "社区", "grid": "网格"}
