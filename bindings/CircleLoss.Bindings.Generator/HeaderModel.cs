using System.Collections.Generic;

namespace CircleLoss.Bindings.Generator;

/// <summary>An object-like macro with a single integer or string literal as its value.</summary>
internal sealed record ConstantModel(string Name, string CSharpType, string Literal, string? Comment);

internal sealed record EnumMemberModel(string Name, long Value, string? Comment);

internal sealed record EnumModel(string Name, string UnderlyingType, long Size, IReadOnlyList<EnumMemberModel> Members, string? Comment);

internal sealed record FieldModel(string Name, string CSharpType, string CType, long Offset, long Size, string? Comment);

/// <summary>A struct; opaque when the header declares it without a definition (used through pointers only).</summary>
internal sealed record StructModel(string Name, bool IsOpaque, long Size, long Alignment, IReadOnlyList<FieldModel> Fields, string? Comment);

internal sealed record ParameterModel(string Name, string CSharpType, string CType);

internal sealed record FunctionModel(string Name, string ReturnType, string CReturnType, IReadOnlyList<ParameterModel> Parameters, string? Comment);

/// <summary>Everything the generator emits, in header order within each kind.</summary>
internal sealed record HeaderModel(
    string HeaderRelativePath,
    IReadOnlyList<ConstantModel> Constants,
    IReadOnlyList<EnumModel> Enums,
    IReadOnlyList<StructModel> Structs,
    IReadOnlyList<FunctionModel> Functions);
