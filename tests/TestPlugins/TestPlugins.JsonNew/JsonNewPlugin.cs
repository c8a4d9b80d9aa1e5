using System.Diagnostics;
using Ally.Abstractions;
using Microsoft.Extensions.AI;
using Newtonsoft.Json;

namespace Ally.TestPlugins;

/// <summary>Reports which Newtonsoft.Json it runs with, to prove that two plugins keep two versions apart.</summary>
public sealed class JsonNewPlugin : IProviderPlugin
{
    public string Name => "jsonnew";

    public IReadOnlyList<string> RequiredEnvVars => [];

    public string? DefaultModel => FileVersionInfo.GetVersionInfo(typeof(JsonConvert).Assembly.Location).FileVersion;

    public ProviderValidation ValidateConfig(ProviderSettings settings) => ProviderValidation.Success;

    public IChatClient CreateClient(ProviderSettings settings) => new EchoChatClient(JsonConvert.SerializeObject(new { version = DefaultModel }));
}
