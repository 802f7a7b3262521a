// Tests switch backends freely; tfjs's "install tfjs-node" banner on the cpu backend's first use is noise here.
import * as tf from '@tensorflow/tfjs';

tf.env().set('IS_TEST', true);
