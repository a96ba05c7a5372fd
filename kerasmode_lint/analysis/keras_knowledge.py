"""What Keras does with ``training``: the facts rules consult.

Kept in one place so a rule never carries its own copy of "which layers
behave differently in training". The facts are measured in docs/semantics.md
(measured with Keras 3.15.1 and tf_keras 2.21).
"""
from __future__ import annotations

import enum
import re


class Tri(enum.Enum):
    """A three-valued answer: a file rarely tells us everything."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"

    @staticmethod
    def any_of(answers) -> "Tri":
        """YES if any is YES, NO if all are NO (or there are none), else UNKNOWN."""
        result = Tri.NO
        for answer in answers:
            if answer is Tri.YES:
                return Tri.YES
            if answer is Tri.UNKNOWN:
                result = Tri.UNKNOWN
        return result


# Layers whose output is random in training mode and the identity otherwise.
DROPOUT_LIKE = frozenset(
    {
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
        "GaussianDropout", "GaussianNoise", "AlphaDropout",
    }
)

# Layers that normalise with batch statistics (and update moving statistics)
# in training mode and with the moving statistics otherwise.
BATCHNORM_LIKE = frozenset({"BatchNormalization", "SyncBatchNormalization"})

# Random augmentation layers: active only in training mode.
AUGMENTATION = frozenset(
    {
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomCrop",
        "RandomContrast", "RandomTranslation", "RandomBrightness",
        "RandomHeight", "RandomWidth", "RandomGrayscale", "RandomHue",
        "RandomSaturation", "RandomColorJitter", "RandomColorDegeneration",
        "RandomPerspective", "RandomShear", "RandomElasticTransform",
        "RandomErasing", "RandomGaussianBlur", "RandomInvert",
        "RandomPosterization", "RandomSharpness", "RandAugment", "AugMix",
        "MixUp", "CutMix", "RandomApply", "RandomChoice", "Pipeline",
    }
)

# Layers that take dropout rates as constructor arguments: mode-dependent
# only when one of those rates is given and is not a literal zero.
DROPOUT_ARGUMENTS = {
    "LSTM": ("dropout", "recurrent_dropout"),
    "GRU": ("dropout", "recurrent_dropout"),
    "SimpleRNN": ("dropout", "recurrent_dropout"),
    "LSTMCell": ("dropout", "recurrent_dropout"),
    "GRUCell": ("dropout", "recurrent_dropout"),
    "SimpleRNNCell": ("dropout", "recurrent_dropout"),
    "ConvLSTM1D": ("dropout", "recurrent_dropout"),
    "ConvLSTM2D": ("dropout", "recurrent_dropout"),
    "ConvLSTM3D": ("dropout", "recurrent_dropout"),
    "MultiHeadAttention": ("dropout",),
    "GroupQueryAttention": ("dropout",),
    "GroupedQueryAttention": ("dropout",),
    "Attention": ("dropout",),
    "AdditiveAttention": ("dropout",),
}

# Wrappers whose behaviour is that of the layer they wrap (first argument).
WRAPPERS = frozenset({"TimeDistributed", "Bidirectional", "RNN"})

# Names that read as a training flag (``training``, ``is_training``,
# ``train_mode``), passed by keyword or by position; ``x_train`` is data.
TRAINING_FLAG_NAME = re.compile(r"(?:is_)?train(?:ing)?(?:_mode|_flag|_phase)?")

# Layers of add-on packages (tensorflow_addons, keras_contrib) seen by class
# name: normalisations computed from the batch itself, with no moving
# statistics and no training branch, and wrappers that only reparametrise the
# layer they wrap (its contents are the wrapper's).
ADDON_MODE_FREE = frozenset({"InstanceNormalization", "GroupNormalization", "FilterResponseNormalization", "Maxout", "GELU"})
ADDON_WRAPPERS = frozenset({"WeightNormalization"})

# Built-in layers with no training-mode behaviour at all.
MODE_FREE = frozenset(
    {
        "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D",
        "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "Convolution1D", "Convolution2D", "Convolution3D",
        "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D",
        "DepthwiseConv2D", "Flatten", "Reshape", "Permute", "RepeatVector",
        "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
        "ThresholdedReLU", "Embedding", "Input", "InputLayer", "Lambda",
        "Masking", "Identity", "LayerNormalization", "GroupNormalization",
        "UnitNormalization", "RMSNormalization", "Normalization", "Rescaling",
        "Resizing", "CenterCrop", "Cropping1D", "Cropping2D", "Cropping3D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D",
        "UpSampling2D", "UpSampling3D", "MaxPooling1D", "MaxPooling2D",
        "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
        "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPooling1D",
        "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
        "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPool1D",
        "GlobalMaxPool2D", "GlobalAveragePool1D", "GlobalAveragePool2D",
        "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum",
        "Minimum", "Dot", "ActivityRegularization", "CategoryEncoding",
        "Hashing", "StringLookup", "IntegerLookup", "TextVectorization",
        "Discretization",
    }
)

# keras.applications constructors: (contains BatchNormalization, where it has
# Dropout). Read from keras 3.15.1 keras/src/applications/ and tf_keras 2.21
# tf_keras/src/applications/ (RegNet and ResNetRS exist only in tf_keras).
#   "none":   no Dropout at all;
#   "top":    Dropout only in the classifier head, built when include_top=True
#             (the default): MobileNet (`dropout=1e-3`), MobileNetV3 (`dropout_rate`
#             0.2), ResNetRS50-152 (`dropout_rate` 0.25);
#   "blocks": Dropout (drop-connect, noise_shape=(None, 1, 1, 1)) inside the
#             backbone's blocks, so also with include_top=False: EfficientNet
#             B0-B7 and V2 (drop_connect_rate 0.2), ResNetRS200-420 (0.1).
# VGG16/VGG19 hold neither; ConvNeXt uses LayerNormalization and its
# StochasticDepth is replaced by an identity at the fixed drop_path_rate=0.0.
_REGNETS = tuple(
    f"RegNet{kind}{size}" for kind in "XY"
    for size in ("002", "004", "006", "008", "016", "032", "040", "064", "080", "120", "160", "320")
)
APPLICATION_CONTENTS = {
    **{name: (False, "none") for name in ("VGG16", "VGG19")},
    **{f"ConvNeXt{size}": (False, "none") for size in ("Tiny", "Small", "Base", "Large", "XLarge")},
    **{
        name: (True, "none")
        for name in (
            "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
            "ResNet152V2", "DenseNet121", "DenseNet169", "DenseNet201",
            "InceptionV3", "InceptionResNetV2", "Xception", "MobileNetV2",
            "NASNetMobile", "NASNetLarge", *_REGNETS,
        )
    },
    **{
        name: (True, "top")
        for name in ("MobileNet", "MobileNetV3Small", "MobileNetV3Large",
                     "ResNetRS50", "ResNetRS101", "ResNetRS152")
    },
    **{f"EfficientNetB{i}": (True, "blocks") for i in range(8)},
    **{
        f"EfficientNetV2{size}": (True, "blocks")
        for size in ("B0", "B1", "B2", "B3", "S", "M", "L")
    },
    **{f"ResNetRS{depth}": (True, "blocks") for depth in (200, 270, 350, 420)},
}
# The constructor argument that sets the head's Dropout rate ("top" models).
APPLICATION_DROPOUT_ARGUMENT = {
    "MobileNet": "dropout", "MobileNetV3Small": "dropout_rate",
    "MobileNetV3Large": "dropout_rate", "ResNetRS50": "dropout_rate",
    "ResNetRS101": "dropout_rate", "ResNetRS152": "dropout_rate",
}

# keras.applications constructors with neither BatchNormalization nor Dropout.
APPLICATIONS_WITHOUT_MODE_LAYERS = frozenset(
    name for name, (bn, dropout) in APPLICATION_CONTENTS.items() if not bn and dropout == "none"
)

# keras.applications constructors built without BatchNormalization (checked
# in keras 3.15.1 keras/src/applications/: ConvNeXt uses LayerNormalization).
APPLICATIONS_WITHOUT_BATCHNORM = APPLICATIONS_WITHOUT_MODE_LAYERS | frozenset(
    {"ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"}
)

# Constructors whose content cannot be known from the file.
OPAQUE_MODEL_SOURCES = frozenset(
    {"load_model", "model_from_json", "model_from_config", "load", "KerasLayer", "from_preset"}
)


def layer_class_mode_dependence(name: str, has_dropout_argument: bool) -> Tri:
    """Does a built-in Keras layer class behave differently in training mode?"""
    if name in DROPOUT_LIKE or name in BATCHNORM_LIKE or name in AUGMENTATION:
        return Tri.YES
    if name in DROPOUT_ARGUMENTS:
        return Tri.YES if has_dropout_argument else Tri.NO
    if name in MODE_FREE:
        return Tri.NO
    return Tri.UNKNOWN


# Keras 2 (tf_keras 2.21, introspected): the positional parameters of a
# built-in layer's call, i.e. where ``layer(a, b, c)`` puts ``b`` and ``c``.
# RNN layers and Bidirectional bind through their own ``__call__(inputs,
# initial_state, constants, **kwargs)``. ``Sequential`` and ``Model`` stand for
# Keras's own model classes. Classes not listed are unknown. (Keras 3 rejects
# every non-tensor positional argument: docs/semantics.md R10.)
_INPUTS_ONLY = (
    "Activation", "ActivityRegularization", "Add", "Average", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "CenterCrop", "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose",
    "Conv3D", "Conv3DTranspose", "Convolution1D", "Convolution2D", "Convolution3D",
    "Cropping1D", "Cropping2D", "Cropping3D", "Dense", "DepthwiseConv1D", "DepthwiseConv2D",
    "Discretization", "Dot", "ELU", "EinsumDense", "Embedding", "Flatten",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "Hashing", "Identity",
    "InputLayer", "IntegerLookup", "LayerNormalization", "LeakyReLU", "Masking", "MaxPool1D",
    "MaxPool2D", "MaxPool3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum",
    "Minimum", "Multiply", "Normalization", "PReLU", "Permute", "ReLU", "RepeatVector",
    "Rescaling", "Reshape", "Resizing", "SeparableConv1D", "SeparableConv2D", "StringLookup",
    "Subtract", "TextVectorization", "ThresholdedReLU", "UnitNormalization", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
)
_INPUTS_TRAINING = (
    "AlphaDropout", "Dropout", "GaussianDropout", "GaussianNoise", "RandomBrightness",
    "RandomContrast", "RandomCrop", "RandomFlip", "RandomHeight", "RandomRotation",
    "RandomTranslation", "RandomWidth", "RandomZoom", "SpatialDropout1D", "SpatialDropout2D",
    "SpatialDropout3D", "SpectralNormalization",
)
KERAS2_CALL_POSITIONALS = {
    **dict.fromkeys(_INPUTS_ONLY, ("inputs",)),
    **dict.fromkeys(_INPUTS_TRAINING, ("inputs", "training")),
    **dict.fromkeys(
        ("BatchNormalization", "Model", "Sequential", "SyncBatchNormalization", "TimeDistributed"),
        ("inputs", "training", "mask"),
    ),
    **dict.fromkeys(("GlobalAveragePooling1D", "GroupNormalization", "Softmax"), ("inputs", "mask")),
    "CategoryEncoding": ("inputs", "count_weights"),
    "DenseFeatures": ("features", "cols_to_output_tensors", "training"),
    **dict.fromkeys(
        ("Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "LSTM", "RNN", "SimpleRNN"),
        ("inputs", "initial_state", "constants"),
    ),
    "Lambda": ("inputs", "mask", "training"),
    **dict.fromkeys(("GRUCell", "LSTMCell", "SimpleRNNCell"), ("inputs", "states", "training")),
    "StackedRNNCells": ("inputs", "states", "constants", "training"),
    **dict.fromkeys(
        ("AdditiveAttention", "Attention"),
        ("inputs", "mask", "training", "return_attention_scores", "use_causal_mask"),
    ),
    "MultiHeadAttention": (
        "query", "value", "key", "attention_mask", "return_attention_scores", "training",
        "use_causal_mask",
    ),
}
# Parameters of those signatures that take a Python bool.
KERAS2_BOOL_PARAMETERS = frozenset({"training", "return_attention_scores", "use_causal_mask"})

# Keras 3.15 layers whose ``call`` defaults to ``training=True`` (the image
# preprocessing layers and ``Pipeline``); with ``AUGMENTATION`` this tells
# which of them really change behaviour with the mode.
KERAS3_DEFAULT_TRAINING_TRUE = frozenset(
    {
        "AugMix", "AutoContrast", "CenterCrop", "ContrastLimitedAdaptiveHistogramEqualization",
        "CutMix", "Equalization", "MaxNumBoundingBoxes", "MixUp", "Pipeline", "RandAugment",
        "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter", "RandomContrast",
        "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip",
        "RandomGaussianBlur", "RandomGrayscale", "RandomHeight", "RandomHue", "RandomInvert",
        "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
        "RandomSharpness", "RandomShear", "RandomTranslation", "RandomWidth", "RandomZoom",
        "Resizing", "Solarization",
    }
)
