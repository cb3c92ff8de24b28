"""Each message answered once, however often a client sends it, and no reply sent that was not stored.

A client that loses its answer (a replica killed mid-turn, a connection reset, a
timeout) cannot tell whether the bot took the message, and sends it again. Rasa
would run it twice. A client that numbers its messages (``message_id``, kept as
the tracker's ``UserUttered.message_id``) sends them as :class:`ClientMessage`:
one whose id the conversation already has is not run again, and the replies
stored after it are sent again instead. The check runs behind the conversation's
lock, so a repeat waits for the turn it repeats.

Rasa sends a turn's replies as its actions produce them, and stores the turn
when it ends: a replica killed in between has sent replies the conversation
never recorded, which a retry then sends again. :class:`HeldOutput` keeps a
turn's replies until the turn is stored, and drops them if it never is.

:func:`answer_repeats` makes Rasa's processor do both; ``bot.rasa_addons.server``
calls it at start-up. This module runs inside the Rasa server: it imports only
what ``.venv-rasa`` has.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered

__all__ = ["ClientMessage", "HeldOutput", "answer_repeats"]


class ClientMessage(UserMessage):
    """A message whose ``message_id`` the client chose: sent again, it is answered from the conversation."""


class HeldOutput(OutputChannel):
    """Another output channel, whose messages leave once :meth:`release` is called."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.held: list[tuple[str, dict[str, Any]]] = []

    def name(self) -> str:
        return self.channel.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.held.append((recipient_id, message))

    async def release(self) -> None:
        held, self.held = self.held, []
        for recipient_id, message in held:
            await self.channel.send_response(recipient_id, message)


async def _stored_replies(processor: MessageProcessor, message: ClientMessage) -> list[dict[str, Any]] | None:
    """The bot's messages after ``message`` in its conversation, or None if the conversation does not have it."""
    tracker = await processor.tracker_store.retrieve(message.sender_id)
    replies: list[dict[str, Any]] | None = None
    for event in tracker.events if tracker else ():
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message.message_id:
                replies = []
        elif isinstance(event, BotUttered) and replies is not None:
            replies.append(event.message())
    return replies


async def _after_storing(output: OutputChannel | None, turn: Awaitable[Any]) -> Any:
    """Runs ``turn``, which stores the conversation as it ends, then lets what ``output`` held go."""
    result = await turn
    if isinstance(output, HeldOutput):
        await output.release()
    return result


async def _send_again(message: UserMessage, replies: list[dict[str, Any]]) -> Any:
    for reply in replies:
        await message.output_channel.send_response(message.sender_id, reply)
    collector = message.output_channel
    return collector.messages if isinstance(collector, CollectingOutputChannel) else None


def _answering_repeats(handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @wraps(handle)
    async def handle_message(processor: MessageProcessor, message: UserMessage) -> Any:
        replies = await _stored_replies(processor, message) if isinstance(message, ClientMessage) else None
        turn = handle(processor, message) if replies is None else _send_again(message, replies)
        return await _after_storing(message.output_channel, turn)

    return handle_message


def _releasing_after(trigger: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    # An agent's message reaches the customer this way (trigger_intent, output_channel=latest).
    @wraps(trigger)
    async def trigger_external_user_uttered(
        processor: MessageProcessor, intent_name: str, entities: Any, tracker: Any, output_channel: OutputChannel
    ) -> Any:
        return await _after_storing(output_channel, trigger(processor, intent_name, entities, tracker, output_channel))

    return trigger_external_user_uttered


def answer_repeats() -> None:
    """Makes Rasa's processor answer a repeated :class:`ClientMessage` from the conversation, and release
    a :class:`HeldOutput` once the turn is stored."""
    MessageProcessor.handle_message = _answering_repeats(MessageProcessor.handle_message)
    MessageProcessor.trigger_external_user_uttered = _releasing_after(MessageProcessor.trigger_external_user_uttered)
