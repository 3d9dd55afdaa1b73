"""The networks of rnnlab; importing this package registers them by ``kind``."""
from .activations import ACTIVATIONS, activation, dense, relu, sigmoid, softmax
from . import hopfield_rules
from .boltzmann import BoltzmannMachine, BoltzmannParams, BoltzmannState, Clamping, connectivity_mask
from . import boltzmann_exact
from .boltzmann_chains import GibbsChains, gibbs_chains
from .hopfield import Hopfield, HopfieldParams, HopfieldState, hebb, to_spin
from .hopfield_continuous import HopfieldContinuous, HopfieldContinuousParams, HopfieldContinuousState
from .rnn import RNN, RNNParams, RNNStackParams, RNNState, RNNTrainParams, counter
from .seq2seq import Seq2Seq, generate, one_to_many_inputs
from .rbm import RBM, RBMParams, RBMState
from .perceptron import McCullochPitts, MPParams, MPState, train_perceptron
from .elman import Elman, copy_back_train
from .lstm import LSTM, LSTMState
from .lstm_rtrl import rtrl_sequence
from .gru import GRU, GRUState, GRUTrainParams
from .jordan import Jordan, JordanParams, JordanState

__all__ = [
    "ACTIVATIONS", "activation", "dense", "relu", "sigmoid", "softmax",
    "BoltzmannMachine", "BoltzmannParams", "BoltzmannState", "Clamping", "connectivity_mask", "boltzmann_exact",
    "GibbsChains", "gibbs_chains",
    "Hopfield", "HopfieldParams", "HopfieldState", "hebb", "to_spin",
    "HopfieldContinuous", "HopfieldContinuousParams", "HopfieldContinuousState",
    "RNN", "RNNParams", "RNNStackParams", "RNNState", "RNNTrainParams", "counter",
    "Seq2Seq", "generate", "one_to_many_inputs",
    "RBM", "RBMParams", "RBMState",
    "McCullochPitts", "MPParams", "MPState", "train_perceptron",
    "Elman", "copy_back_train",
    "LSTM", "LSTMState", "rtrl_sequence",
    "GRU", "GRUState", "GRUTrainParams",
    "Jordan", "JordanParams", "JordanState",
]
