"""The browser pages (工作台): operators' desk (受理), the dispatcher's queue (派单), the units'
worklist (承办), the callback desk (回访) and the ticket page, plus the API docs served offline.

One more client of the five services: every page calls their HTTP APIs with the signed-in
user's own token (in one process through an ASGI transport, otherwise through base URLs from
`WEB_SERVICE_URLS`), never their tables, and no business rule lives in a template.
"""
