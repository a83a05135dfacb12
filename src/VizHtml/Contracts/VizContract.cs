using System.Reflection;
using System.Text;
using System.Text.Json;
using VizHtml.Contracts;

namespace VizHtml;

/// <summary>
/// The events and requests a program and its pages exchange, declared once in C# (<see cref="VizEvent"/>,
/// <see cref="VizCall"/>), from which the pages' TypeScript declarations are generated. Immutable; thread-safe.
/// </summary>
/// <remarks>
/// The TypeScript is one global namespace, <c>VizContract</c>, written for <c>vizhtml.d.ts</c>: the maps <c>ToPage</c>,
/// <c>ToServer</c>, <c>Requests</c> and <c>Answers</c> (<c>viz.WebSocket</c>'s four type arguments, in that order), one
/// interface per payload type, and <c>VizContract.Socket</c>, the socket typed by all four. The payload types come from
/// System.Text.Json's JSON schema exporter with the serializer options given (the server's): property names as the
/// server writes them, C# nullable annotations as <c>| null</c>, constructor parameters without a default value and
/// <c>required</c> members as required properties, the rest optional, enums as numbers (or strings with <c>JsonStringEnumConverter</c>), byte
/// arrays as base64 strings.
/// </remarks>
public sealed class VizContract
{
    private readonly VizContractMember[] _members;

    /// <summary>A contract of the given events and requests.</summary>
    /// <param name="members">The descriptors; the same one listed twice counts once.</param>
    /// <exception cref="ArgumentException">Two different descriptors use one name the same way (both events, or both requests, in an overlapping direction).</exception>
    public VizContract(IEnumerable<VizContractMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var list = new List<VizContractMember>();
        foreach (var member in members)
        {
            if (member is null)
            {
                throw new ArgumentException("A contract member is null (a descriptor field read before it was set?).", nameof(members));
            }

            if (list.Any(m => ReferenceEquals(m, member)))
            {
                continue;
            }

            if (list.FirstOrDefault(m => m.Name == member.Name && m.IsCall == member.IsCall && ((m.PageSends && member.PageSends) || (m.ServerSends && member.ServerSends))) is { } clash)
            {
                throw new ArgumentException($"The contract declares '{member.Name}' twice, as {clash} and as {member}: give each {(member.IsCall ? "request" : "event")} its own name.", nameof(members));
            }

            list.Add(member);
        }

        _members = [.. list];
    }

    /// <summary>A contract of the given events and requests.</summary>
    /// <param name="members">The descriptors.</param>
    /// <exception cref="ArgumentException">Two different descriptors use one name the same way.</exception>
    public VizContract(params VizContractMember[] members)
        : this((IEnumerable<VizContractMember>)members)
    {
    }

    /// <summary>The events and requests, in the order given (for <see cref="From"/>, the order of declaration).</summary>
    public IReadOnlyList<VizContractMember> Members => _members;

    /// <summary>
    /// The contract declared by the public static fields and properties of <paramref name="contractTypes"/> (typically
    /// static classes) whose values are <see cref="VizEvent{T}"/> or <see cref="VizCall{TRequest, TResponse}"/>, in
    /// declaration order. Uses reflection on those types only; a trimmed or ahead-of-time compiled program can list its
    /// descriptors with the constructor instead.
    /// </summary>
    /// <exception cref="ArgumentException">A type declares no descriptor, or two descriptors use one name the same way.</exception>
    public static VizContract From(params Type[] contractTypes)
    {
        ArgumentNullException.ThrowIfNull(contractTypes);
        var members = new List<VizContractMember>();
        foreach (var type in contractTypes)
        {
            ArgumentNullException.ThrowIfNull(type, nameof(contractTypes));
            const BindingFlags Declared = BindingFlags.Public | BindingFlags.Static;
            var found = type.GetFields(Declared).Where(f => typeof(VizContractMember).IsAssignableFrom(f.FieldType)).Select(f => (f.MetadataToken, Value: f.GetValue(null)))
                .Concat(type.GetProperties(Declared).Where(p => typeof(VizContractMember).IsAssignableFrom(p.PropertyType) && p.GetIndexParameters().Length == 0 && p.GetMethod is not null)
                    .Select(p => (p.MetadataToken, Value: p.GetValue(null))))
                .OrderBy(f => f.MetadataToken)
                .Select(f => (VizContractMember?)f.Value)
                .ToList();
            if (found.Count == 0)
            {
                throw new ArgumentException($"{type.FullName} declares no public static VizEvent or VizCall field or property.", nameof(contractTypes));
            }

            members.AddRange(found!);
        }

        return new VizContract(members);
    }

    /// <summary>The contract's TypeScript declarations (see the remarks of <see cref="VizContract"/>).</summary>
    /// <param name="jsonOptions">
    /// The serializer options the server uses (<see cref="VizHtmlOptions.JsonSerializerOptions"/>); <see langword="null"/>
    /// for the server's default, <see cref="JsonSerializerDefaults.Web"/> (camelCase names). Not changed.
    /// </param>
    /// <returns>The text of a <c>.d.ts</c> file, lines ending in <c>\n</c>.</returns>
    /// <exception cref="NotSupportedException">System.Text.Json cannot describe a payload type with these options.</exception>
    public string ToTypeScript(JsonSerializerOptions? jsonOptions = null) =>
        ContractTypeScript.Generate(_members, jsonOptions ?? new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>
    /// Writes <see cref="ToTypeScript"/> to a file (UTF-8, created with its folder if missing), for a build step; a file that
    /// already holds the same text is left untouched, so watchers and incremental builds see no change.
    /// </summary>
    /// <param name="path">The file, e.g. <c>wwwroot/contract.d.ts</c>.</param>
    /// <param name="jsonOptions">As for <see cref="ToTypeScript"/>.</param>
    /// <returns>Whether the file was written (its text changed).</returns>
    public bool WriteTypeScript(string path, JsonSerializerOptions? jsonOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = ToTypeScript(jsonOptions);
        if (File.Exists(path) && File.ReadAllText(path, Encoding.UTF8) == text)
        {
            return false;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return true;
    }
}
