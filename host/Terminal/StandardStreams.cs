using System.Text;

namespace Ally.Host.Terminal;

/// <summary>The process's standard streams: the one place outside Spectre.Console that touches <see cref="System.Console"/>.</summary>
internal sealed class StandardStreams
{
    public StandardStreams(TextWriter output, TextWriter error, TextReader input, bool inputRedirected, bool outputRedirected)
    {
        Output = output;
        Error = error;
        Input = input;
        IsInputRedirected = inputRedirected;
        IsOutputRedirected = outputRedirected;
    }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public TextReader Input { get; }

    public bool IsInputRedirected { get; }

    public bool IsOutputRedirected { get; }

    public static StandardStreams FromConsole()
    {
#pragma warning disable RS0030 // this is the terminal layer
        Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
        var error = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true };
        return new StandardStreams(output, error, Console.In, Console.IsInputRedirected, Console.IsOutputRedirected);
#pragma warning restore RS0030
    }
}
