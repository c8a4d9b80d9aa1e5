using System.Reflection;
using System.Text;
using Ally.Abstractions;

namespace Ally.Abstractions.Tests;

/// <summary>Pins the plugin contract: any change to Ally.Abstractions' public surface must update PublicApi.txt.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicSurface_MatchesCheckedInFile()
    {
        // Given the checked-in surface
        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "PublicApi.txt")).ReplaceLineEndings("\n").Trim();

        // When the assembly's surface is dumped
        var actual = Dump(typeof(IProviderPlugin).Assembly.GetExportedTypes()).Trim();

        // Then they are the same; to accept a deliberate change, copy PublicApi.actual.txt over PublicApi.txt
        if (expected != actual)
        {
            File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "PublicApi.actual.txt"), actual + "\n");
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Dump_TellsApartWhatAPluginMustImplementAndWhatIsNullableOrRequired()
    {
        // Given two contracts that differ only in a default implementation, a nullable annotation and 'required'
        var withDefaults = Members(typeof(IContractWithDefaults));
        var withoutDefaults = Members(typeof(IContractWithoutDefaults));

        // Then their dumps differ, because each difference breaks or changes what a plugin compiles against
        Assert.Contains("abstract System.String Name { get; }", withoutDefaults);
        Assert.Contains("System.String Name { get; }", withDefaults);
        Assert.Contains("abstract System.String? Model { get; }", withoutDefaults);
        Assert.Contains("abstract System.String Model { get; }", withDefaults);
        Assert.Contains("abstract System.String? Describe(System.String? text)", withoutDefaults);
        Assert.Contains("abstract System.String Describe(System.String text)", withDefaults);
        Assert.Contains("required System.String Key { get; init; }", Members(typeof(RecordWithRequired)));
        Assert.Contains("System.String? Note { get; init; }", Members(typeof(RecordWithRequired)));
    }

    /// <summary>A contract shape used to check the dump: one member with a default implementation.</summary>
    public interface IContractWithDefaults
    {
        string Name => "x";

        string Model { get; }

        string Describe(string text);
    }

    /// <summary>The same shape with every member abstract and nullable.</summary>
    public interface IContractWithoutDefaults
    {
        string Name { get; }

        string? Model { get; }

        string? Describe(string? text);
    }

    /// <summary>A settings shape with a required member.</summary>
    public sealed record RecordWithRequired
    {
        public required string Key { get; init; }

        public string? Note { get; init; }
    }

    private static string[] Members(Type type) =>
        [.. Dump([type]).Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0)];

    private static string Dump(IEnumerable<Type> types)
    {
        var builder = new StringBuilder();
        foreach (var type in types.OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var kind = type.IsInterface ? "interface" : type.IsEnum ? "enum" : type.IsValueType ? "struct" : type.IsSealed ? "sealed class" : "class";
            var bases = new List<string>();
            if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(Enum) && baseType != typeof(ValueType))
            {
                bases.Add(Name(baseType));
            }

            bases.AddRange(type.GetInterfaces().Select(Name).Order(StringComparer.Ordinal));
            builder.Append(kind).Append(' ').Append(type.FullName);
            if (bases.Count > 0)
            {
                builder.Append(" : ").Append(string.Join(", ", bases));
            }

            builder.Append('\n');
            const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(Flags)
                .Where(m => m is not MethodInfo { IsSpecialName: true } and not FieldInfo { IsSpecialName: true })
                .Select(Describe)
                .Order(StringComparer.Ordinal);
            foreach (var member in members)
            {
                builder.Append("  ").Append(member).Append('\n');
            }
        }

        return builder.ToString();
    }

    private static string Describe(MemberInfo member) => member switch
    {
        ConstructorInfo c => $"ctor({Parameters(c.GetParameters())})",
        MethodInfo m => $"{Modifiers(m)}{Name(m.ReturnType, Nullability.Create(m.ReturnParameter))} {m.Name}({Parameters(m.GetParameters())})",
        PropertyInfo p => $"{(p.GetMethod is { } get ? Modifiers(get) : string.Empty)}{(p.IsDefined(typeof(System.Runtime.CompilerServices.RequiredMemberAttribute)) ? "required " : string.Empty)}{Name(p.PropertyType, Nullability.Create(p))} {p.Name} {{{(p.GetMethod?.IsPublic == true ? " get;" : string.Empty)}{(p.SetMethod?.IsPublic == true ? (p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit") ? " init;" : " set;") : string.Empty)} }}",
        FieldInfo f => f.DeclaringType!.IsEnum ? $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}" : $"{Name(f.FieldType)} {f.Name}",
        EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
        Type t => $"nested {t.Name}",
        _ => member.ToString() ?? string.Empty,
    };

    private static readonly NullabilityInfoContext Nullability = new();

    // An interface member without a body is one every plugin must implement; one with a body is optional.
    private static string Modifiers(MethodInfo method) =>
        (method.IsStatic ? "static " : string.Empty) + (method.IsAbstract && method.DeclaringType!.IsInterface ? "abstract " : string.Empty);

    private static string Name(Type type, NullabilityInfo nullability) =>
        Name(type) + (!type.IsValueType && nullability.ReadState == NullabilityState.Nullable ? "?" : string.Empty);

    private static string Parameters(ParameterInfo[] parameters) =>
        string.Join(", ", parameters.Select(p => $"{Name(p.ParameterType, Nullability.Create(p))} {p.Name}{(p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : string.Empty)}"));

    private static string Name(Type type)
    {
        if (type.IsGenericType)
        {
            var name = type.GetGenericTypeDefinition().FullName!;
            return $"{name[..name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Name))}>";
        }

        return type.FullName ?? type.Name;
    }
}
