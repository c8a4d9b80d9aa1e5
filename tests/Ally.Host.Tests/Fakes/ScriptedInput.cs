using System.Threading.Channels;
using Spectre.Console;

namespace Ally.Host.Tests.Fakes;

/// <summary>Keys for a test console: typed ahead or fed while the code under test waits; the end means Ctrl+D.</summary>
public sealed class ScriptedInput : IAnsiConsoleInput
{
    private readonly Channel<ConsoleKeyInfo> _keys = Channel.CreateUnbounded<ConsoleKeyInfo>();

    /// <summary>Gets how many times a key was asked for.</summary>
    public int Reads { get; private set; }

    public ScriptedInput Type(string text)
    {
        foreach (var c in text)
        {
            if (c == '\n')
            {
                Enter();
            }
            else
            {
                _keys.Writer.TryWrite(new ConsoleKeyInfo(c, KeyFor(c), char.IsUpper(c), false, false));
            }
        }

        return this;
    }

    /// <summary>Types a line and presses Enter.</summary>
    public ScriptedInput Line(string text) => Type(text).Enter();

    public ScriptedInput Enter() => Key(new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false));

    public ScriptedInput CtrlD() => Key(new ConsoleKeyInfo('\u0004', ConsoleKey.D, false, false, true));

    public ScriptedInput CtrlC() => Key(new ConsoleKeyInfo('\u0003', ConsoleKey.C, false, false, true));

    public ScriptedInput Key(ConsoleKeyInfo key)
    {
        _keys.Writer.TryWrite(key);
        return this;
    }

    /// <summary>Ends the input: the next read returns null, as Spectre does when input ends.</summary>
    public void End() => _keys.Writer.TryComplete();

    public bool IsKeyAvailable() => false;

    public ConsoleKeyInfo? ReadKey(bool intercept) => ReadKeyAsync(intercept, CancellationToken.None).GetAwaiter().GetResult();

    public async Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken)
    {
        Reads++;
        try
        {
            return await _keys.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    private static ConsoleKey KeyFor(char c) =>
        char.IsAsciiLetter(c) ? ConsoleKey.A + (char.ToUpperInvariant(c) - 'A')
        : char.IsAsciiDigit(c) ? ConsoleKey.D0 + (c - '0')
        : c == ' ' ? ConsoleKey.Spacebar
        : c == '\t' ? ConsoleKey.Tab
        : ConsoleKey.Oem1;
}
