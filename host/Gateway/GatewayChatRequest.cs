using Microsoft.Extensions.AI;

namespace Ally.Host.Gateway;

/// <summary>A Chat Completions request translated to MEAI: the model as the client named it, the conversation and the options.</summary>
internal sealed record GatewayChatRequest(string Model, List<ChatMessage> Messages, ChatOptions Options, bool Stream, bool IncludeUsage);
