"""The queue_log vocabulary the statistics read, and where each event keeps its numbers.

Producers (the queue manager, callbacks, trunk failover) write these names into `queue_event`;
operator-wide events use the queue name ``NONE`` as Asterisk does. Every field is text.
"""

from __future__ import annotations

# A caller's visit to a queue: it starts with ENTERQUEUE and ends with one outcome.
ENTERQUEUE = "ENTERQUEUE"  # data: url | caller | position
CONNECT = "CONNECT"  # data: hold s | operator leg | ring ms | position
ABANDON = "ABANDON"  # data: position | original position | wait s
EXITWITHTIMEOUT = "EXITWITHTIMEOUT"  # data: position | original position | wait s
EXITEMPTY = "EXITEMPTY"  # data: position | original position | wait s
EXITWITHKEY = "EXITWITHKEY"  # data: key | position | original position | wait s
# The end of an answered visit.
COMPLETECALLER = "COMPLETECALLER"  # data: hold s | talk s | original position
COMPLETEAGENT = "COMPLETEAGENT"  # data: hold s | talk s | original position
TRANSFER = "TRANSFER"  # data: target | context | hold s | talk s | original position
SEATLOST = "SEATLOST"  # the operator's headset vanished; the caller goes back to the queue: hold s | talk s
# Offers and operator states.
RINGNOANSWER = "RINGNOANSWER"  # data: ring ms | 'timeout' or SIP code
WRAPUP = "WRAPUP"  # written when wrap-up ends; call id = the call wrapped up; data: wrap-up s
PAUSE = "PAUSE"  # data: reason
UNPAUSE = "UNPAUSE"
AGENTLOGIN = "AGENTLOGIN"
AGENTLOGOFF = "AGENTLOGOFF"
# Callbacks: call id = the missed call the task is for.
CALLBACKREQ = "CALLBACKREQ"  # data: number | why ('abandon', 'timeout', 'request')
CALLBACKATTEMPT = "CALLBACKATTEMPT"  # data: result ('reached','noanswer','busy','failed','wrongnumber')
# Outbound trunk failover: call id = the outbound call record.
FAILOVER = "FAILOVER"  # data: from trunk | to trunk | cause (SIP code or 'timeout')

END_OF_WAIT = {CONNECT: 0, ABANDON: 2, EXITWITHTIMEOUT: 2, EXITEMPTY: 2, EXITWITHKEY: 3}
"""Each outcome event and the index of its wait-time field (data1 = 0)."""
OUTCOME = {CONNECT: "answered", ABANDON: "abandoned", EXITWITHTIMEOUT: "timeout",
           EXITEMPTY: "empty", EXITWITHKEY: "key"}
"""The outcome each event gives a visit."""
END_OF_TALK = {COMPLETECALLER: 1, COMPLETEAGENT: 1, TRANSFER: 3, SEATLOST: 1}
"""Each end-of-talk event and the index of its talk-time field."""
PAUSES = {PAUSE: True, "PAUSEALL": True, UNPAUSE: False, "UNPAUSEALL": False}
LOGINS = {AGENTLOGIN: True, AGENTLOGOFF: False}
CALLBACK_REACHED = "reached"

#: How long after a period ends its calls may still be connecting or talking: later events of
#: calls that entered within the period are read up to this far past its end.
LOOKAHEAD_S = 6 * 3600
#: Callback attempts are looked for this long after the period: a callback may come days later.
CALLBACK_LOOKAHEAD_S = 7 * 86400
#: Longer periods are computed month by month (office time) and merged, so memory stays that of a month.
CHUNK_DAYS = 31
